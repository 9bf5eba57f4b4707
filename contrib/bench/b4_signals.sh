#!/usr/bin/env bash
# B4 signal forwarding latency.  The workload (sigprobe) traps TERM, USR1,
# HUP, INT and WINCH and writes {signal, CLOCK_MONOTONIC} from its handler to
# a FIFO.  The driver (sigdrive) starts every init at once, plus "direct"
# (the probe with no init, the baseline), then for ROUNDS rounds x 5 signals
# kill()s each init in turn and waits for the probe's record: latency is
# kill() -> handler.  One signal is in flight at a time.
#
# The headline is pinned to one CPU (taskset; PIN_CPU, default the last
# CPU): every hop is then a same-CPU context switch and the figure is the
# forwarding path's own cost.  Unpinned, a hop may be a cross-CPU wake-up of
# an idle vCPU, which on a VM is bimodal and swamps the difference; that
# median is in the note.  Run with the inits as plain processes and as PID 1
# of their own pid namespace (signalled from outside, as a runtime would).
# cand/this: median over rounds and signals of candidate / that peer.
#
# env: MINIINIT, MINIINIT_PLAIN, CAND_NAME, PEERS, ROUNDS (default 500,
#      QUICK 100), PIN_CPU (default: last CPU; "none" = unpinned headline)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

ROUNDS=${ROUNDS:-$(quick 500 100)}
PIN_CPU=${PIN_CPU:-$(($(nproc) - 1))}
raw=$RAW_DIR/B4.txt
: >"$raw"

mapfile -t peers < <(init_peers floor)
for mode in pidns plain; do
    specs=()
    cand_ok=0
    [[ $mode == plain ]] && label="kill->handler latency, plain process" || label="kill->handler latency, PID 1 of pidns"
    for p in "${peers[@]}"; do
        IFS='|' read -r name plain pid1 <<<"$p"
        if [[ $plain == '!' ]]; then
            result B4 "$label" "$name" "n/a" "-" "-" "n/a: $pid1"
            continue
        fi
        [[ $name == "$CAND_NAME" ]] && cand_ok=1
        [[ $mode == plain ]] && pre=$plain || pre=$pid1
        specs+=("$name=$pre")
        cmdline B4 "$name ($mode)" "$pre" sigprobe DATA_FIFO CTRL_FIFO
    done
    opts=(-r "$ROUNDS" -o "$WORK/b4.$mode.log" -w "$BIN/sigprobe")
    [[ $mode == pidns ]] && opts+=(-p)
    ((cand_ok)) && opts+=(-c "$CAND_NAME")
    pin=()
    where=unpinned
    if [[ $PIN_CPU != none ]]; then
        pin=(taskset -c "$PIN_CPU")
        where="one CPU"
    fi
    cmdline B4 "driver ($mode)" "${pin[@]}" sigdrive "${opts[@]}" "NAME=PREFIX..."
    log "B4 $mode: ${#specs[@]} inits + direct, $ROUNDS rounds x 5 signals ($where)"
    out=$("${pin[@]}" "$BIN/sigdrive" "${opts[@]}" "${specs[@]}")
    { echo "## mode=$mode pinned=$PIN_CPU"; echo "$out"; echo "## init output:"; cat "$WORK/b4.$mode.log" 2>/dev/null; } >>"$raw"
    unpinned=""
    if [[ $PIN_CPU != none ]]; then
        log "B4 $mode: again unpinned, for the note"
        unpinned=$("$BIN/sigdrive" "${opts[@]}" "${specs[@]}")
        { echo "## mode=$mode unpinned"; echo "$unpinned"; } >>"$raw"
    fi
    while read -r line; do
        n=$(kv "$line" name)
        miss=$(kv "$line" missing)
        died=$(kv "$line" died)
        if [[ $miss == - ]]; then v="all 5 forwarded"; else v="NOT forwarded: $miss"; fi
        [[ $died != no ]] && v="$v; init DIED $died"
        got=$(grep "^SIG name=$n " <<<"$out" | while read -r s; do printf '%s %s ' "$(kv "$s" sig)" "$(kv "$s" got)"; done)
        note="$v (${got% }); init exit after the probe quit: $(kv "$line" exit)"
        if [[ -n $unpinned ]]; then
            u=$(grep "^SUM name=$n " <<<"$unpinned")
            uv=$(kv "$(grep "^VS cand=$CAND_NAME peer=$n " <<<"$unpinned")" ratio)
            note="$note; unpinned: med $(kv "$u" med_us) us, $(fmt_x "$(kv "$u" ratio)") of direct${uv:+, cand/this $(fmt_x "$uv")}"
        fi
        med="$(kv "$line" med_us) us"
        [[ $(kv "$line" forwarded) == - ]] && med="n/a"
        vs=$(kv "$(grep "^VS cand=$CAND_NAME peer=$n " <<<"$out")" ratio)
        [[ $n == direct ]] && n=baseline
        result B4 "$label ($where)" "$n" "$med" "$(fmt_x "$(kv "$line" ratio)")" "$(fmt_x "${vs:--}")" "$note"
    done < <(grep '^SUM ' <<<"$out")
    if ((cand_ok)); then
        vs=$(kv "$(grep "^VS cand=$CAND_NAME peer=tini " <<<"$out")" ratio)
        target B4 "signal latency ($mode, $where), $CAND_NAME / tini" "none (reported)" "$(fmt_x "${vs:--}")" "-"
    fi
done
