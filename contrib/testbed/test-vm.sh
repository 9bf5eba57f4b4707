#!/bin/bash
# The cgroup v2 test tier (make test-vm): the root tests of ./cgroup and
# ./cmd/minispawn, run as root with CI=1 (so nothing may skip) inside one
# boot of the VM, where systemd gives cgroup v2 with every controller.
#
# On the host: build the test binaries static (go test -c), take the
# prebuilt bin/miniinit and bin/minispawn (make build; the guest has no Go
# toolchain, so TestMain uses them through MINISPAWN_TEST_BINDIR, where
# the helper programs tests build are prebuilt too), share
# the repository read-only for testdata/ and contrib/examples/, and boot.
# Usage: test-vm.sh [--cgroup v2|hybrid|v1] [go test flags for both, e.g.
#        -test.run 'TestOOM|TestDemo']
# Env: TESTBED_CACHE, BIN (default: the repository's bin/).
# Last line: "vm-<layout>: N passed, N failed, N skipped" (top-level tests).
. "$(dirname "$0")/lib.sh"
tb_need_root

cgroup=v2
if [ "${1:-}" = --cgroup ]; then
	cgroup=$2
	shift 2
fi
repo=$(cd "$TESTBED_DIR/../.." && pwd)
bin=${BIN:-$repo/bin}
for b in miniinit minispawn; do
	[ -x "$bin/$b" ] || tb_die "$bin/$b missing: run make build"
done
"$TESTBED_DIR/deps.sh" vm
"$TESTBED_DIR/mkimage.sh"

work=$(mktemp -d /tmp/minispawn-test-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
cp "$bin/miniinit" "$bin/minispawn" "$work/bin/"
# Helper programs that tests build with go at run time, prebuilt for the
# guest as $MINISPAWN_TEST_BINDIR/NAME.
for helper in "$repo"/cmd/minispawn/testdata/attack; do
	[ -d "$helper" ] || continue
	(cd "$repo" && CGO_ENABLED=0 go build -o "$work/bin/${helper##*/}" "./${helper#"$repo"/}")
done
# Each package: NAME DIR (the test binary runs in DIR, as go test would).
pkgs=("cgroup cgroup" "minispawn cmd/minispawn")
for p in "${pkgs[@]}"; do
	read -r name dir <<<"$p"
	(cd "$repo" && CGO_ENABLED=0 tb_time "go test -c ./$dir" go test -c -o "$work/$name.test" "./$dir")
done

# The program the VM runs: every package, even after a failure.
{
	echo '#!/bin/sh'
	echo 'rc=0'
	for p in "${pkgs[@]}"; do
		read -r name dir <<<"$p"
		echo "echo '=== package ./$dir'"
		echo "cd $(tb_quote "$repo/$dir") && /testbed/$name.test -test.v -test.count=1 -test.timeout=10m \"\$@\" || rc=1"
	done
	echo 'exit $rc'
} >"$work/run.sh"

# MINISPAWN_CGROUP=cgroupfs: the tests run as a plain (not delegated)
# service, where minispawn would otherwise put each container into a
# transient scope of systemd's; the tests look for it at minispawn/NAME.
set +e
"$TESTBED_DIR/vm-run.sh" --cgroup "$cgroup" --timeout 1500 --share "$repo" \
	--copy "$work/bin" --copy "$work/cgroup.test" --copy "$work/minispawn.test" \
	--env CI=1 --env MINISPAWN_TEST_BINDIR=/testbed/bin --env MINISPAWN_CGROUP=cgroupfs \
	"$work/run.sh" "$@" | tee "$work/output.log"
rc=${PIPESTATUS[0]}
set -e
# A summary line that any CI log reader understands.
count() { grep -c "^--- $1: " "$work/output.log" || true; }
echo "vm-$cgroup: $(count PASS) passed, $(count FAIL) failed, $(count SKIP) skipped"
exit "$rc"
