#!/usr/bin/env bash
# B1 start-up: wall time of `INIT /bin/true`
#   * as PID 1 of a new PID namespace: `unshare -pf --mount-proc INIT /bin/true`
#     against `unshare -pf --mount-proc /bin/true` (the container case, and
#     the one with a target: miniinit within 1.15x of tini-static);
#   * as a plain process: `INIT /bin/true` against `/bin/true`.
# All inits and the baseline take turns in one benchtime call (RUNS rounds).
# The figure is the whole wall time; the note also gives the init's own
# share (median minus the baseline's median), which is what the ratio hides.
#
# env: MINIINIT, MINIINIT_PLAIN, CAND_NAME, PEERS, RUNS (default 300, QUICK 40)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

RUNS=${RUNS:-$(quick 300 40)}
TRUE=/bin/true
UNSHARE=$(command -v unshare)
raw=$RAW_DIR/B1.txt
: >"$raw"

mapfile -t peers < <(init_peers floor)

for mode in pidns plain; do
    names=(baseline)
    if [[ $mode == plain ]]; then
        cmds=("$TRUE")
        label="start-up, plain process"
    else
        cmds=("$UNSHARE" -pf --mount-proc "$TRUE")
        label="start-up, PID 1 of new pidns"
    fi
    cmdline B1 "baseline ($mode)" "${cmds[@]}"
    cand_ok=0
    for p in "${peers[@]}"; do
        IFS='|' read -r name plain pid1 <<<"$p"
        if [[ $plain == '!' ]]; then
            result B1 "$label" "$name" "n/a" "-" "-" "n/a: $pid1"
            continue
        fi
        [[ $name == "$CAND_NAME" ]] && cand_ok=1
        names+=("$name")
        if [[ $mode == plain ]]; then
            # shellcheck disable=SC2206
            c=($plain "$TRUE")
        else
            # shellcheck disable=SC2206
            c=("$UNSHARE" -pf --mount-proc $pid1 "$TRUE")
        fi
        cmdline B1 "$name ($mode)" "${c[@]}"
        cmds+=(:: "${c[@]}")
    done
    copt=()
    ((cand_ok)) && copt=(-c "$CAND_NAME")
    log "B1 $mode: ${#names[@]} commands x $RUNS rounds"
    out=$("$BIN/benchtime" -n "$RUNS" -w 5 -t 20 -o "$WORK/b1.out" "${copt[@]}" \
        -r "$raw.rounds" -l "$(IFS=,; echo "${names[*]}")" -- "${cmds[@]}")
    { echo "## mode=$mode"; echo "$out"; } >>"$raw"
    base_med=$(kv "$(grep '^BT name=baseline ' <<<"$out")" med_us)
    while read -r line; do
        n=$(kv "$line" name)
        med=$(kv "$line" med_us)
        vs=$(kv "$(grep "^VS cand=$CAND_NAME peer=$n " <<<"$out")" ratio)
        note="n=$(kv "$line" n); min $(fmt_ms "$(kv "$line" min_us)"); bad exits $(kv "$line" bad)"
        [[ $n != baseline ]] && note="$note; own share $(fmt_ms "$(awk -v a="$med" -v b="$base_med" 'BEGIN{print a-b}')") over the baseline"
        result B1 "$label" "$n" "$(fmt_ms "$med")" "$(fmt_x "$(kv "$line" ratio)")" "$(fmt_x "${vs:--}")" "$note"
    done < <(grep '^BT ' <<<"$out")
    if [[ $mode == pidns ]]; then
        vs=$(kv "$(grep "^VS cand=$CAND_NAME peer=tini-static " <<<"$out")" ratio)
        m=$(fmt_x "${vs:--}")
        if [[ -n $vs ]]; then
            # the init's own share: its median minus the baseline's
            share() { awk -v a="$(kv "$(grep "^BT name=$1 " <<<"$out")" med_us)" -v b="$base_med" 'BEGIN{printf "%.2f ms", (a-b)/1000}'; }
            m="$m (own share $(share "$CAND_NAME") against $(share tini-static))"
        fi
        target B1 "start-up as PID 1 of a new pidns, $CAND_NAME / tini-static" "<= 1.15x" "$m" "$(verdict "${vs:-}" 1.15)"
    fi
done
