#!/usr/bin/env bash
# B9 memory of a supervisor of ten workloads.  Each supervisor runs ten
# copies of `sleep 600` with restart always:
#   miniinit      -c FILE with ten [[workload]] tables (one process)
#   supervisord   ten [program:wN] sections (one Python process)
#   s6-supervise  s6-svscan on a scan directory of ten services: s6-svscan
#                 plus one s6-supervise per service
#   runsv         runsvdir on a directory of ten services: runsvdir plus one
#                 runsv per service
# Figure: the sum of VmRSS over the supervisor's whole process tree but the
# sleeps themselves, read once all ten sleeps run and SETTLE seconds have
# passed.  The second figure is the sum of Pss (smaps_rollup), which
# shares the pages common to several processes among them: the fairer sum
# for the peers that run one process per service.  One interleaved run: each round starts every supervisor once, in
# an order shuffled afresh; cand/this is the median of the per-round ratios.
#
# usage: b9_supervise_rss.sh    env: PEERS, ROUNDS (default 3; QUICK 1),
#                               N (workloads, default 10), SETTLE (s, default 1)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/supervisors.sh
source "$BENCH_DIR/lib/supervisors.sh"

ROUNDS=${ROUNDS:-$(quick 3 1)}
N=${N:-10}
SETTLE=${SETTLE:-1}
SLEEP=$(command -v sleep)
raw=$RAW_DIR/B9.txt
: >"$raw"
FIG="VmRSS supervising $N x sleep 600 (sum over the supervisor's processes)"
FIGP="Pss supervising $N x sleep 600 (sum over the supervisor's processes)"

items=()
if why=$(sup_available miniinit); then items+=(miniinit); else
    result B9 "$FIG" "$CAND_NAME" "n/a" "-" "-" "$why"
fi
for s in $SUPERVISOR_PEERS_ALL; do
    peer_selected "$s" || continue
    if why=$(sup_available "$s"); then items+=("$s"); else
        result B9 "$FIG" "$s" "n/a" "-" "-" "$why"
    fi
done
name_of() { [[ $1 == miniinit ]] && echo "$CAND_NAME" || echo "$1"; }

# measure ITEM ROUND -> "KIB PSS_KIB nprocs comm:kib,..." or "ERR why"
measure() {
    local it=$1 dir=$WORK/b9-$1-$2 k=0 p comm kib pss sum=0 psum=0 np=0 parts="" nsleep
    sup_start_many "$it" "$dir" "$N" "$SLEEP" 600
    while ((k++ < 250)); do
        nsleep=0
        for p in $(tree_of "$SUP_PID"); do
            [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && ((nsleep++))
        done
        ((nsleep >= N)) && break
        sleep 0.02
    done
    if ((nsleep < N)); then
        echo "ERR only-$nsleep-sleeps-seen"
        sup_stop "$it" "$dir"
        return
    fi
    sleep "$SETTLE"
    for p in $(tree_of "$SUP_PID"); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        [[ $comm == sleep ]] && continue
        kib=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
        [[ -n $kib ]] || continue
        pss=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        sum=$((sum + kib))
        psum=$((psum + ${pss:-0}))
        np=$((np + 1))
        parts+="$comm:$kib,"
    done
    sup_stop "$it" "$dir"
    rm -rf "$dir" "$dir.pid" "$dir.console.log"
    echo "$sum $psum $np ${parts%,}"
}

declare -A KIB PSS VSC VSCP DESC
for ((r = 0; r < ROUNDS; r++)); do
    log "B9 round $((r + 1))/$ROUNDS"
    declare -A this=() thisp=()
    mapfile -t order < <(printf '%s\n' "${items[@]}" | shuf)
    for it in "${order[@]}"; do
        out=$(measure "$it" "$r")
        echo "round=$r item=$it -> $out" >>"$raw"
        read -r a ps np parts <<<"$out"
        [[ $a == ERR ]] && continue
        this[$it]=$a
        thisp[$it]=$ps
        KIB[$it]+="$a "
        PSS[$it]+="$ps "
        DESC[$it]="$np processes"
    done
    for it in "${items[@]}"; do
        [[ -n ${this[$it]:-} && -n ${this[miniinit]:-} ]] || continue
        VSC[$it]+="$(awk -v c="${this[miniinit]}" -v p="${this[$it]}" 'BEGIN{printf "%.4f", c/p}') "
        VSCP[$it]+="$(awk -v c="${thisp[miniinit]}" -v p="${thisp[$it]}" 'BEGIN{printf "%.4f", c/p}') "
    done
    unset this thisp
done

mid() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
mib() { awk -v k="$1" 'BEGIN{printf "%.2f MiB", k/1024}'; }
for it in "${items[@]}"; do
    name=$(name_of "$it")
    if [[ -z ${KIB[$it]:-} ]]; then
        result B9 "$FIG" "$name" "n/a" "-" "-" "failed (see results/raw/B9.txt)"
        continue
    fi
    note="runs (KiB): ${KIB[$it]% }; ${DESC[$it]}"
    case $it in
    miniinit) note="$note (miniinit alone)" ;;
    supervisord) note="$note (supervisord, Python)" ;;
    s6-supervise) note="$note (s6-svscan + $N s6-supervise)" ;;
    runsv) note="$note (runsvdir + $N runsv)" ;;
    esac
    vsc=$(mid "${VSC[$it]:-}")
    [[ $it == miniinit ]] && vsc=-
    result B9 "$FIG" "$name" "$(mib "$(mid "${KIB[$it]}")")" "-" "$(fmt_xs "$vsc")" "$note"
    vsc=$(mid "${VSCP[$it]:-}")
    [[ $it == miniinit ]] && vsc=-
    result B9 "$FIGP" "$name" "$(mib "$(mid "${PSS[$it]}")")" "-" "$(fmt_xs "$vsc")" "runs (KiB): ${PSS[$it]% }"
done

if [[ -n ${KIB[miniinit]:-} ]]; then
    m=$(mid "${KIB[miniinit]}")
    target B9 "VmRSS of miniinit supervising $N workloads" "<= 5 MiB" "$(mib "$m")" \
        "$(verdict "$(awk -v k="$m" 'BEGIN{print k/1024}')" 5)"
else
    target B9 "VmRSS of miniinit supervising $N workloads" "<= 5 MiB" "n/a" "n/a"
fi

cmdline B9 "$CAND_NAME" "$MINIINIT_BIN" -s -c "\$WORK/sup/bench.toml" "  # $N x [[workload]] command = \"$SLEEP\", args = [\"600\"], restart = \"always\", backoff = { initial = \"0s\" }"
cmdline B9 supervisord supervisord -n -c "\$WORK/sup/supervisord.conf" "  # $N x [program:wN] command=$SLEEP 600, autorestart=true"
cmdline B9 s6-supervise s6-svscan "\$WORK/sup" "  # $N service directories, run: exec $SLEEP 600"
cmdline B9 runsv runsvdir "\$WORK/sup" "  # $N service directories, run: exec $SLEEP 600"
