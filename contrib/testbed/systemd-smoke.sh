#!/bin/bash
# Runs inside the test bed under systemd (as /testbed/script, from
# test-systemd.sh): the smoke test of the systemd tier.
#   boot      systemd is PID 1 and the system finished booting
#   unit      minispawn-demo.service (Type=notify, RemainAfterExit=yes,
#             ExecStart=minispawn -c contrib/examples/demo.toml) starts: the
#             start job ends only once minispawn sent READY=1
#   exited    the demo ran to its end: active/exited, Result=success, status 0
#   journal   the container's output reached the journal
# Usage: systemd-smoke.sh REPO BINDIR
# Last line: "systemd: N passed, N failed".
set -u
repo=$1 bindir=$2
passed=0 failed=0
check() { # NAME OK(0/1) DETAIL
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS $1: $3"
	else
		failed=$((failed + 1))
		echo "FAIL $1: $3"
	fi
}

state=$(systemctl is-system-running)
[ "$(cat /proc/1/comm)" = systemd ] && case $state in running | degraded) true ;; *) false ;; esac
check boot $? "PID 1 is $(cat /proc/1/comm), system $state, $(systemctl --version | head -n1)"
[ "$state" != degraded ] || systemctl --failed --no-legend | sed 's/^/INFO failed unit: /'

unit=minispawn-demo.service
cat >/run/systemd/system/$unit <<UNIT
[Unit]
Description=minispawn demo container

[Service]
Type=notify
NotifyAccess=main
RemainAfterExit=yes
ExecStart=$bindir/minispawn -c $repo/contrib/examples/demo.toml
TimeoutStartSec=60
UNIT
systemctl daemon-reload
timeout 90 systemctl start $unit
rc=$?
# With NotifyAccess=main, a main process that exits before READY=1 fails
# the start (Result=protocol): success here means minispawn sent READY=1.
check unit $rc "systemctl start $unit exited $rc"
# READY=1 comes before the workload ends: wait for the end, bounded.
for _ in $(seq 100); do
	[ "$(systemctl show $unit -p SubState --value)" = running ] || break
	sleep 0.1
done
show=$(systemctl show $unit -p ActiveState -p SubState -p Result -p ExecMainStatus | sort | tr '\n' ' ')
[ "$show" = "ActiveState=active ExecMainStatus=0 Result=success SubState=exited " ]
check exited $? "$show"
# journald takes the unit's stdout through a stream: it may lag a little.
ok=1
for _ in $(seq 100); do
	journalctl -u $unit -o cat --no-pager | grep -q 'hostname: minispawn-demo' && { ok=0; break; }
	sleep 0.1
done
check journal $ok "'hostname: minispawn-demo' in journalctl -u $unit"
if [ "$failed" -gt 0 ]; then
	echo "INFO journalctl -u $unit:"
	journalctl -u $unit -o cat --no-pager | sed 's/^/INFO   /'
fi
echo "systemd: $passed passed, $failed failed"
[ "$failed" = 0 ]
