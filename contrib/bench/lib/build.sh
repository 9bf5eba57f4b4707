#!/usr/bin/env bash
# Builds the C helpers in ../src into ../.build (git-ignored), static so that
# they start fast and their own RSS, which is the floor of every peak-RSS
# figure, stays small.  Rebuilds only what changed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$here/.build"
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O2 -Wall -Wextra -Wno-unused-parameter}
for src in "$here"/src/*.c; do
    name=$(basename "$src" .c)
    out="$here/.build/$name"
    if [[ ! -x $out || $src -nt $out ]]; then
        # shellcheck disable=SC2086
        $CC $CFLAGS -static -o "$out.tmp" "$src"
        mv "$out.tmp" "$out"
    fi
done

# The Go yardstick (src/gofloor, a module of its own), built like the
# project's binaries: static, no cgo, stripped.  Skipped without a Go
# toolchain; B1 and B2 then leave it out.
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
out=$here/.build/gofloor
if [[ -x $GO ]] && [[ ! -x $out || -n $(find "$here/src/gofloor" -newer "$out" -type f) ]]; then
    (cd "$here/src/gofloor" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='' "$GO" build -trimpath \
        -ldflags='-s -w -buildid=' -o "$out" .) || echo "bench: gofloor not built" >&2
fi
