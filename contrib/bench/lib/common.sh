# shellcheck shell=bash disable=SC2034
# Shared helpers for contrib/bench/b*.sh.  Source it; do not run it.
#
# Conventions
#   * Every benchmark prints tab-separated lines on stdout:
#       RESULT <bench> <figure> <name> <value> <vs-baseline> <cand/this> <note>
#       CMD    <bench> <name> <exact command line>
#       TARGET <bench> <what> <target> <measured> <verdict>
#     run.sh collects them in results/latest.tsv and lib/report.sh turns them
#     into results/latest.md.  Progress goes to stderr.
#   * Every figure comes from ONE interleaved run of all inits (A B C A B C,
#     the first one rotating), and ratios are medians of per-round ratios,
#     because other work shares the machine: absolute figures drift, ratios
#     taken inside a round mostly do not.  Nothing here is a pass/fail gate.
#   * "cand/this" is the candidate's figure divided by this row's, median of
#     the per-round ratios where there are rounds: >1 means the candidate is
#     slower or bigger than that peer.
#   * Command prefixes are split on white space (no quoting).

set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BIN=$BENCH_DIR/.build
RAW_DIR=${RAW_DIR:-$BENCH_DIR/results/raw}
mkdir -p "$RAW_DIR"
"$BENCH_DIR/lib/build.sh" || { echo "bench: build of the C helpers failed" >&2; exit 1; }

# QUICK=1: fewer rounds, for a quick check that everything runs (the figures
# are then much noisier).  quick FULL QUICK -> the value for this mode.
quick() { if [[ -n ${QUICK:-} && ${QUICK:-0} != 0 ]]; then echo "$2"; else echo "$1"; fi; }

# Scratch space on tmpfs, removed on exit.
WORK=$(mktemp -d "${BENCH_TMP:-/dev/shm}/minispawn-bench.XXXXXX")
_cleanup_hooks=()
on_exit() { _cleanup_hooks+=("$1"); }
_run_cleanup() {
    local h
    for h in "${_cleanup_hooks[@]}"; do eval "$h" || true; done
    rm -rf "$WORK"
}
trap _run_cleanup EXIT

# The candidate init.  miniinit is tini-compatible (`miniinit -- CMD`) and,
# as a plain process, a child subreaper on its own.  The plain form adds -s,
# which for miniinit only silences the "not PID 1" warning, as the peers run
# as `tini -s`.  MINIINIT="tini --" is a stand-in while bin/miniinit does not
# build (its plain form becomes "tini -s --").
CAND_NAME=${CAND_NAME:-miniinit}
MINIINIT=${MINIINIT:-$ROOT/bin/miniinit --}
MINIINIT_PLAIN=${MINIINIT_PLAIN:-${MINIINIT/ --/ -s --}}

result() { # bench figure name value vs-baseline cand/this note
    printf 'RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}
cmdline() { # bench name words... : the exact command, scratch dir shortened
    local c="${*:3}"
    printf 'CMD\t%s\t%s\t%s\n' "$1" "$2" "${c//$WORK/\$WORK}"
}
target() { # bench what target measured verdict
    printf 'TARGET\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"
}
log() { echo "bench: $*" >&2; }

# kv "line" key -> value of key=value in line
kv() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<" $1" | head -n1; }
# us -> "1.23 ms"; ratio -> "1.23x"
fmt_ms() { awk -v u="$1" 'BEGIN{printf "%.2f ms", u/1000}'; }
fmt_x() { [[ -z $1 || $1 == - ]] && { echo "-"; return; }; awk -v r="$1" 'BEGIN{printf "%.2fx", r}'; }
median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print ""}else if(NR%2){print a[(NR+1)/2]}else{print (a[NR/2]+a[NR/2+1])/2}}'; }
# verdict MEASURED_RATIO LIMIT -> "met in this run" | "missed in this run"
verdict() {
    [[ -z $1 || $1 == - ]] && { echo "n/a"; return; }
    awk -v m="$1" -v l="$2" 'BEGIN{print (m+0 <= l+0) ? "met in this run" : "missed in this run"}'
}

have() { command -v "$1" >/dev/null 2>&1; }

# abs_prefix "tini -s --" -> "/usr/bin/tini -s --"; fails if not installed
abs_prefix() {
    local first rest p
    read -r first rest <<<"$1"
    p=$(command -v "$first") || return 1
    printf '%s%s' "$p" "${rest:+ $rest}"
}

# Peers: name|prefix as a plain process|prefix as PID 1.  tini needs -s to
# reap when it is not PID 1; the others do it without a flag.
INIT_PEERS_ALL="tini|tini -s --|tini --
tini-static|tini-static -s --|tini-static --
dumb-init|dumb-init --|dumb-init --
catatonit|catatonit --|catatonit --"

# PEERS=a,b keeps only those peers (PEERS=none: only the candidate).
peer_selected() {
    local p=${PEERS:-all}
    [[ $p == all ]] && return 0
    [[ ,$p, == *",$1,"* ]]
}

# oneline TEXT -> ": TEXT" on one line and cut short, or nothing if empty
oneline() {
    local t
    t=$(tr '\n' ' ' <<<"$1" | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-160)
    [[ -n $t ]] && printf ': %s' "$t"
}

# cand_why: empty if the candidate init runs /bin/true with exit 0 both as a
# plain process and as PID 1 of a new pid namespace, else the reason.
cand_why() {
    local first ap out rc
    read -r first _ <<<"$MINIINIT"
    if ! ap=$(abs_prefix "$MINIINIT") || [[ ! -x ${ap%% *} ]]; then
        echo "$first not found (make build)"
        return
    fi
    # shellcheck disable=SC2086
    out=$("$BIN/nsrun" -k -t 10 -- $MINIINIT_PLAIN /bin/true 2>&1 </dev/null)
    rc=$?
    if ((rc != 0)); then
        echo "does not work yet: '$MINIINIT_PLAIN /bin/true' exited $rc$(oneline "$out")"
        return
    fi
    # shellcheck disable=SC2086
    out=$("$BIN/nsrun" -p -t 10 -- $MINIINIT /bin/true 2>&1 </dev/null)
    rc=$?
    if ((rc != 0)); then
        echo "does not work yet as PID 1: '$MINIINIT /bin/true' exited $rc$(oneline "$out")"
    fi
}

# init_peers [floor] -> "name|plain|pid1" lines: the candidate first, then
# the selected peers.  One that cannot run is "name|!|reason".  With
# "floor", the Go yardstick (src/gofloor: fork, exec, forward TERM/INT, reap,
# nothing else) comes last as "go-floor", unless PEERS leaves it out.
init_peers() {
    local name plain pid1 ap ai why
    why=$(cand_why)
    if [[ -z $why ]]; then
        echo "$CAND_NAME|$(abs_prefix "$MINIINIT_PLAIN")|$(abs_prefix "$MINIINIT")"
    else
        echo "$CAND_NAME|!|$why"
    fi
    while IFS='|' read -r name plain pid1; do
        peer_selected "$name" || continue
        if ap=$(abs_prefix "$plain") && ai=$(abs_prefix "$pid1"); then
            echo "$name|$ap|$ai"
        else
            echo "$name|!|not installed (${plain%% *} not on PATH)"
        fi
    done <<<"$INIT_PEERS_ALL"
    if [[ ${1:-} == floor && -x $BIN/gofloor ]] && peer_selected go-floor; then
        echo "go-floor|$BIN/gofloor|$BIN/gofloor"
    fi
}
