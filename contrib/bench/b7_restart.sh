#!/usr/bin/env bash
# B7 restart rate.  The workload (src/tick.c) appends its start time to a
# file and exits 0 at once; every supervisor restarts it forever, with no
# delay where one can be configured:
#   miniinit      -c FILE: restart = "always", backoff = { initial = "0s" }
#   supervisord   autorestart=true, startsecs=0 (no BACKOFF state)
#   s6-supervise  ./run = exec tick FILE
#   runsv         ./run = exec tick FILE
# Baseline: the ideal supervisor, a posix_spawn + waitpid loop (clockutil
# respawn).  Figure: restarts per second, counted from the workload's own
# start times inside a window of SLICE seconds (after WARM seconds), and the
# median interval between two starts.  One interleaved run: each round runs
# every supervisor once, in an order shuffled afresh every round.
# "vs baseline" and "cand/this" compare the time per restart (the inverse of
# the rate), so that >1 means slower, as everywhere in the tables.
# s6-supervise and runsv wait 1 s before restarting a service that died at
# once, by design and not configurable: their figure is that throttle.
#
# usage: b7_restart.sh      env: PEERS, SLICE (s, default 2; QUICK 1),
#                           ROUNDS (default 7; QUICK 1), BASE_SLICE (default SLICE)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/supervisors.sh
source "$BENCH_DIR/lib/supervisors.sh"

# Many short rounds rather than a few long ones: the machine's speed drifts
# within seconds, and the median of many per-round ratios absorbs a round
# that another process disturbed.  The loop gets the same window.
SLICE=${SLICE:-$(quick 2 1)}
ROUNDS=${ROUNDS:-$(quick 7 1)}
BASE_SLICE=${BASE_SLICE:-$SLICE}
WARM=0.5
raw=$RAW_DIR/B7.txt
: >"$raw"
FIG="restarts/s (workload exits at once)"

items=(baseline)
if why=$(sup_available miniinit); then items+=(miniinit); else
    result B7 "$FIG" "$CAND_NAME" "n/a" "-" "-" "$why"
fi
for s in $SUPERVISOR_PEERS_ALL; do
    peer_selected "$s" || continue
    if why=$(sup_available "$s"); then items+=("$s"); else
        result B7 "$FIG" "$s" "n/a" "-" "-" "$why"
    fi
done
name_of() { [[ $1 == miniinit ]] && echo "$CAND_NAME" || echo "$1"; }

declare -A COUNT DUR MEDS RATE_R
run_slice() { # item round -> sets RATE_R[item]
    local it=$1 r=$2 f=$WORK/ticks.$1.$2 dir=$WORK/svc-$1-$2 t0 t1 n st
    rm -f "$f"
    RATE_R[$it]=""
    if [[ $it == baseline ]]; then
        t0=$("$BIN/clockutil" now)
        "$BIN/clockutil" respawn "$BASE_SLICE" "$BIN/tick" "$f" >/dev/null
        t1=$("$BIN/clockutil" now)
    else
        sup_start "$it" "$dir" "$BIN/tick" "$f"
        n=0
        while [[ ! -s $f ]] && ((n++ < 200)); do sleep 0.05; done
        if [[ ! -s $f ]]; then
            echo "round=$r item=$it: workload never started" >>"$raw"
            sup_stop "$it" "$dir"
            return
        fi
        sleep "$WARM"
        t0=$("$BIN/clockutil" now)
        sleep "$SLICE"
        t1=$("$BIN/clockutil" now)
        sup_stop "$it" "$dir"
    fi
    st=$("$BIN/clockutil" ticks "$f" "$t0" "$t1")
    rm -f "$f"
    echo "round=$r item=$it $st window_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')" >>"$raw"
    local c
    c=$(kv "$st" count)
    COUNT[$it]=$((${COUNT[$it]:-0} + c))
    DUR[$it]=$(awk -v d="${DUR[$it]:-0}" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", d+(b-a)/1e9}')
    MEDS[$it]+="$(kv "$st" med_interval_us) "
    RATE_R[$it]=$(awk -v c="$c" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", c/((b-a)/1e9)}')
}

declare -A VSB VSC
for ((r = 0; r < ROUNDS; r++)); do
    log "B7 round $((r + 1))/$ROUNDS"
    mapfile -t order < <(printf '%s\n' "${items[@]}" | shuf)
    for it in "${order[@]}"; do run_slice "$it" "$r"; done
    b=${RATE_R[baseline]:-} c=${RATE_R[miniinit]:-}
    for it in "${items[@]}"; do
        p=${RATE_R[$it]:-}
        [[ -n $p && $p != 0.0000 ]] || continue
        # time per restart ratios: baseline/this rate, this/candidate rate
        [[ -n $b ]] && VSB[$it]+="$(awk -v b="$b" -v p="$p" 'BEGIN{printf "%.4f", b/p}') "
        [[ -n $c && $c != 0.0000 ]] && VSC[$it]+="$(awk -v c="$c" -v p="$p" 'BEGIN{printf "%.4f", p/c}') "
    done
done

rate_of() { awk -v c="${COUNT[$1]:-0}" -v d="${DUR[$1]:-0}" 'BEGIN{printf "%.1f", (d>0)?c/d:0}'; }
mid() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
for it in "${items[@]}"; do
    name=$(name_of "$it")
    if [[ -z ${COUNT[$it]:-} || ${COUNT[$it]} == 0 ]]; then
        result B7 "$FIG" "$name" "n/a" "-" "-" "no restart seen (see results/raw/B7.txt)"
        continue
    fi
    med=$(mid "${MEDS[$it]:-}")
    note="$(awk -v c="${COUNT[$it]}" -v d="${DUR[$it]}" 'BEGIN{printf "%d restarts in %.1f s", c, d}'); median interval between starts $(fmt_ms "$med")"
    case $it in
    baseline) note="$note; posix_spawn + waitpid loop (clockutil respawn)" ;;
    miniinit) note="$note; restart = always, backoff initial 0s" ;;
    s6-supervise | runsv) note="$note; built-in 1 s restart throttle" ;;
    supervisord) note="$note; autorestart=true, startsecs=0" ;;
    esac
    vsc=$(mid "${VSC[$it]:-}")
    [[ $it == miniinit ]] && vsc=-
    result B7 "$FIG" "$name" "$(rate_of "$it")/s" "$(fmt_xs "$(mid "${VSB[$it]:-}")")" "$(fmt_xs "$vsc")" "$note"
done

# Target: the candidate restarts at least half as fast as the bare loop
# (its time per restart at most 2x the loop's).
if [[ -n ${COUNT[miniinit]:-} && ${COUNT[miniinit]} != 0 && -n ${VSB[miniinit]:-} ]]; then
    x=$(mid "${VSB[miniinit]}")
    frac=$(awk -v x="$x" 'BEGIN{printf "%.2f", 1/x}')
    target B7 "restart rate, workload exiting at once, backoff 0s" ">= 0.5x the spawn+wait loop's rate" \
        "$(rate_of miniinit)/s = ${frac}x the loop's $(rate_of baseline)/s" "$(verdict "$x" 2)"
else
    target B7 "restart rate, workload exiting at once, backoff 0s" ">= 0.5x the spawn+wait loop's rate" "n/a" "n/a"
fi

cmdline B7 baseline "$BIN/clockutil" respawn "$BASE_SLICE" "$BIN/tick" "\$WORK/ticks"
cmdline B7 "$CAND_NAME" "$MINIINIT_BIN" -s -c "\$WORK/svc/bench.toml" "  # [[workload]] command = \"$BIN/tick\", args = [\"\$WORK/ticks\"], restart = \"always\", backoff = { initial = \"0s\" }"
cmdline B7 supervisord supervisord -n -c "\$WORK/svc/supervisord.conf" "  # [program:w] command=$BIN/tick \$WORK/ticks, autorestart=true, startsecs=0"
cmdline B7 s6-supervise s6-supervise "\$WORK/svc" "  # run: exec $BIN/tick \$WORK/ticks"
cmdline B7 runsv runsv "\$WORK/svc" "  # run: exec $BIN/tick \$WORK/ticks"
