#!/bin/bash
# Runs inside the test bed under systemd (as /testbed/script, from
# test-systemd.sh): the smoke test of the systemd tier.
#   boot      systemd is PID 1 and the system finished booting
#   unit      minispawn-demo.service (Type=notify, Delegate=yes,
#             RemainAfterExit=yes,
#             ExecStart=minispawn -c contrib/examples/demo.toml) starts: the
#             start job ends only once minispawn sent READY=1
#   exited    the demo ran to its end: active/exited (or inactive/dead after
#             STOPPING=1), with Result=success and exit status 0
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
# As contrib/systemd/minispawn@.service: the container goes below the
# unit's cgroup, so its output is the unit's in the journal. (Without
# Delegate=yes minispawn makes a scope of its own, and the output is the
# scope's.)
Delegate=yes
ExecStart=$bindir/minispawn -c $repo/contrib/examples/demo.toml
TimeoutStartSec=60
# How the run ended, kept after the unit stopped (an inactive unit may be
# unloaded, which resets its ExecMain* properties).
ExecStopPost=/bin/sh -c 'echo "\$SERVICE_RESULT \$EXIT_CODE \$EXIT_STATUS" >/run/minispawn-demo.result'
UNIT
systemctl daemon-reload
timeout 90 systemctl start $unit
rc=$?
# With NotifyAccess=main, a main process that exits before READY=1 fails
# the start (Result=protocol): success here means minispawn sent READY=1.
check unit $rc "systemctl start $unit exited $rc"
# READY=1 comes before the workload ends. A clean end is active/exited
# (RemainAfterExit=yes), or inactive/dead when minispawn said STOPPING=1 as
# the container ended (systemd then stops the unit rather than keep it, and
# ExecStopPost records how the main process ended).
state=
for _ in $(seq 100); do
	state=$(systemctl show $unit -p ActiveState -p SubState --value | paste -sd/)
	case $state in active/exited | inactive/dead | failed/*) break ;; esac
	sleep 0.1
done
case $state in
active/exited)
	how=$(systemctl show $unit -p Result -p ExecMainCode -p ExecMainStatus --value | paste -sd' ')
	[ "$how" = "success 1 0" ]
	;;
inactive/dead)
	how=$(cat /run/minispawn-demo.result 2>/dev/null)
	[ "$how" = "success exited 0" ]
	;;
*) how=; false ;;
esac
show="$state, result/code/status: $how"
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
