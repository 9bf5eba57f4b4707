#!/bin/bash
# Runs inside the test bed under systemd: every check script of the systemd
# tier in turn, each as its own program, so that one failing does not hide
# the next. The runner copies only this script into the guest; the others
# come from the repository, shared at the same path, and are copied first
# (bash reads a script as it runs it: an edit on the host mid-run must not
# change one under its feet).
# Usage: systemd-tier.sh REPO BINDIR
# Last line: "systemd tier: N passed, N failed" (checks of all scripts; a
# script that ends without its summary line counts as one more failure).
set -u -o pipefail
dir=$1/contrib/testbed
passed=0 failed=0 rc=0
for s in systemd-smoke.sh systemd-service.sh; do
	echo "=== $s"
	cp "$dir/$s" "/tmp/$s"
	"/tmp/$s" "$@" | tee /tmp/tier.out || rc=1
	passed=$((passed + $(grep -c '^PASS ' /tmp/tier.out)))
	failed=$((failed + $(grep -c '^FAIL ' /tmp/tier.out)))
	if ! tail -n1 /tmp/tier.out | grep -qE '^[a-z]+: [0-9]+ passed, [0-9]+ failed$'; then
		echo "FAIL $s: ended without its summary line"
		failed=$((failed + 1)) rc=1
	fi
done
echo "systemd tier: $passed passed, $failed failed"
exit $rc
