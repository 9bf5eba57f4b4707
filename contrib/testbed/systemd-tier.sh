#!/bin/bash
# Runs inside the test bed under systemd: every check script of the systemd
# tier in turn, each as its own program, so that one failing does not hide
# the next. The runner copies only this script into the guest; the others
# are read from the repository, shared at the same path.
# Usage: systemd-tier.sh REPO BINDIR
# Last line: "systemd tier: N passed, N failed" (checks of all scripts).
set -u
dir=$1/contrib/testbed
passed=0 failed=0 rc=0
for s in systemd-smoke.sh systemd-service.sh; do
	echo "=== $s"
	"$dir/$s" "$@" | tee /tmp/tier.out || rc=1
	passed=$((passed + $(grep -c '^PASS ' /tmp/tier.out)))
	failed=$((failed + $(grep -c '^FAIL ' /tmp/tier.out)))
done
echo "systemd tier: $passed passed, $failed failed"
exit $rc
