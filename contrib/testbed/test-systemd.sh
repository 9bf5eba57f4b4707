#!/bin/bash
# The systemd test tier (make test-systemd): real systemd as PID 1 of a
# systemd-nspawn container of the test bed root, about half a second a boot.
# systemd-tier.sh runs systemd-smoke.sh (minispawn as a Type=notify unit)
# and systemd-service.sh (readiness, status, cgroups, journal, reload,
# stop, failure, watchdog, transient scope, socket activation).
# Usage: test-systemd.sh [--vm] [runner options, e.g. --cgroup unified]
#   --vm: the same test in the cgroup v2 VM (vm-run.sh, ~40 s) instead,
#   where Delegate=yes hands the unit real v2 controllers.
# Env: TESTBED_CACHE, BIN (default: the repository's bin/, from make build).
. "$(dirname "$0")/lib.sh"
tb_need_root

runner=nspawn
if [ "${1:-}" = --vm ]; then
	runner=vm
	shift
fi
repo=$(cd "$TESTBED_DIR/../.." && pwd)
bin=${BIN:-$repo/bin}
for b in miniinit minispawn; do
	[ -x "$bin/$b" ] || tb_die "$bin/$b missing: run make build"
done
"$TESTBED_DIR/deps.sh" $runner
smoke=("$TESTBED_DIR/systemd-tier.sh" "$repo" /testbed/bin)
# machined is not in the root: its package goes in, for the machined check.
machined=()
"$TESTBED_DIR/mkrootfs.sh" >&2 # its systemd's version picks the package's
deb=$("$TESTBED_DIR/machined-deb.sh")
[ -z "$deb" ] || machined=(--copy "$deb")
# bin/ is copied, not shared: a rebuild on the host cannot change it mid-run.
if [ $runner = vm ]; then
	exec "$TESTBED_DIR/vm-run.sh" --timeout 600 --share "$repo" --copy "$bin" "${machined[@]}" "$@" "${smoke[@]}"
fi
# --rw-cgroup all: on a hybrid host nspawn mounts the v1 controllers
# read-only, where minispawn cannot make its cgroup (EROFS). Writable ones
# (each in a child cgroup of ours) let its limits be set and enforced.
exec "$TESTBED_DIR/nspawn-run.sh" --timeout 300 --share "$repo" --copy "$bin" \
	--rw-cgroup all "${machined[@]}" "$@" "${smoke[@]}"
