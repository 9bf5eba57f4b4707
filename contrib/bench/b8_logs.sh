#!/usr/bin/env bash
# B8 log throughput.  The workload (src/spew.c) writes SIZE (default 512 MiB)
# of 128-byte text lines to stdout in 64 KiB writes, first noting its start
# time (CLOCK_MONOTONIC).  The end is when the destination holds every byte
# it should (polled every 1 ms); MiB/s = SIZE / (end - start).  Everything
# is on tmpfs (BENCH_TMP, default /dev/shm): the disk is not measured.
#   cat           spew | cat > file                       <- baseline
#   miniinit      -c FILE, one workload w1 with log_prefix = true, miniinit's
#                 stdout to the file: every line becomes "w1: " + line
#   supervisord   [program] stdout_logfile=FILE, maxbytes=0 (no rotation)
#   s6-log        spew | s6-log n20 s268435455 DIR  (s6's logger; 256 MiB
#                 rotation, its maximum)
#   svlogd        spew | svlogd DIR  (runit's logger; s268435455 n20)
# Every byte is accounted for after each run (outside the timing): the
# destination must hold SIZE/128 lines and SIZE bytes (plus the prefixes for
# miniinit, every line starting with it); a run that does not is reported.
# One interleaved run: each round runs every logger once, in an order
# shuffled afresh; ratios (of the time taken, so >1 means slower) are the
# medians of the per-round ratios.
#
# usage: b8_logs.sh    env: PEERS, SIZE (default 512M; QUICK 128M),
#                      ROUNDS (default 3; QUICK 1)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/supervisors.sh
source "$BENCH_DIR/lib/supervisors.sh"

SIZE=${SIZE:-$(quick 512M 128M)}
ROUNDS=${ROUNDS:-$(quick 3 1)}
BYTES=$(numfmt --from=iec "$SIZE")
LINES=$((BYTES / 128))
MIB=$(awk -v b="$BYTES" 'BEGIN{print b/1048576}')
PFX="w1: "
raw=$RAW_DIR/B8.txt
: >"$raw"
SPEW=$BIN/spew
FIG="log throughput, $SIZE to a file on tmpfs"

items=(baseline)
if why=$(sup_available miniinit); then items+=(miniinit); else
    result B8 "$FIG" "$CAND_NAME" "n/a" "-" "-" "$why"
fi
for s in supervisord s6-log svlogd; do
    peer_selected "$s" || continue
    if have "$s"; then items+=("$s"); else
        result B8 "$FIG" "$s" "n/a" "-" "-" "$s not on PATH"
    fi
done
name_of() { [[ $1 == miniinit ]] && echo "$CAND_NAME" || echo "$1"; }

# account ITEM DEST -> "lines bytes ok|BAD(why)"
account() {
    local it=$1 dest=$2 lc want_b bad=""
    if [[ -d $dest ]]; then
        lc=$(find "$dest" -maxdepth 1 -type f \( -name current -o -name '@*' \) -exec cat {} + | wc -lc)
    else
        lc=$(wc -lc <"$dest")
    fi
    read -r l c <<<"$lc"
    want_b=$BYTES
    if [[ $it == miniinit ]]; then
        want_b=$((BYTES + LINES * ${#PFX}))
        local other
        other=$(grep -cv "^$PFX" "$dest")
        ((other == 0)) || bad+=" $other lines without the prefix"
    fi
    ((l == LINES)) || bad+=" lines $l != $LINES"
    ((c == want_b)) || bad+=" bytes $c != $want_b"
    echo "$l $c ${bad:+BAD(${bad# })}"
}

# run_one ITEM -> "MiB/s lines bytes [BAD(...)]" or "ERR reason"
run_one() {
    local it=$1 d=$WORK/b8-$1 ts pid="" dest te rc want=$BYTES
    rm -rf "$d"
    mkdir -p "$d"
    ts=$d/start
    case $it in
    baseline) dest=$d/out; { "$SPEW" -t "$ts" "$BYTES" | cat >"$dest"; } & pid=$! ;;
    s6-log) dest=$d/log; mkdir -p "$dest"; { "$SPEW" -t "$ts" "$BYTES" | s6-log n20 s268435455 "$dest"; } & pid=$! ;;
    svlogd)
        dest=$d/log
        mkdir -p "$dest"
        printf 's268435455\nn20\n' >"$dest/config"
        { "$SPEW" -t "$ts" "$BYTES" | svlogd "$dest"; } & pid=$!
        ;;
    supervisord | miniinit)
        dest=$d/out.log
        [[ $it == miniinit ]] && want=$((BYTES + LINES * ${#PFX}))
        SUP_AUTORESTART=false SUP_STDOUT_LOG=$dest sup_start "$it" "$d/sup" "$SPEW" -t "$ts" "$BYTES"
        ;;
    esac
    te=$("$BIN/clockutil" waitsize -i 1000 -t 120 "$want" "$dest")
    rc=$?
    if [[ $it == supervisord ]]; then
        sup_stop supervisord "$d/sup"
    elif [[ $it == miniinit ]]; then
        # its only workload is its main one: miniinit ends with it
        sup_gone "$SUP_PID" 100 || sup_stop miniinit "$d/sup"
        wait "$SUP_RUNNER" 2>/dev/null
    else
        wait "$pid" 2>/dev/null
    fi
    if ((rc != 0)) || [[ ! -s $ts ]]; then
        echo "ERR timeout-or-no-start($te)"
    else
        echo "$(awk -v m="$MIB" -v a="$(cat "$ts")" -v b="$te" 'BEGIN{printf "%.1f", m/((b-a)/1e9)}') $(account "$it" "$dest")"
    fi
    rm -rf "$d"
}

declare -A RATES VSB VSC ACC ERRS
for ((r = 0; r < ROUNDS; r++)); do
    log "B8 round $((r + 1))/$ROUNDS"
    declare -A this=()
    mapfile -t order < <(printf '%s\n' "${items[@]}" | shuf)
    for it in "${order[@]}"; do
        out=$(run_one "$it")
        echo "round=$r item=$it -> $out" >>"$raw"
        read -r a l c bad <<<"$out"
        if [[ $a == ERR ]]; then ERRS[$it]+="$l "; continue; fi
        this[$it]=$a
        RATES[$it]+="$a "
        ACC[$it]="$l lines, $c bytes"
        [[ -n $bad ]] && ERRS[$it]+="$bad "
    done
    for it in "${items[@]}"; do
        [[ -n ${this[$it]:-} ]] || continue
        [[ -n ${this[baseline]:-} ]] && VSB[$it]+="$(awk -v b="${this[baseline]}" -v p="${this[$it]}" 'BEGIN{printf "%.4f", b/p}') "
        [[ -n ${this[miniinit]:-} ]] && VSC[$it]+="$(awk -v c="${this[miniinit]}" -v p="${this[$it]}" 'BEGIN{printf "%.4f", p/c}') "
    done
    unset this
done

mid() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
for it in "${items[@]}"; do
    name=$(name_of "$it")
    if [[ -z ${RATES[$it]:-} ]]; then
        result B8 "$FIG" "$name" "n/a" "-" "-" "failed: ${ERRS[$it]:-no data}"
        continue
    fi
    note="runs (MiB/s): ${RATES[$it]% }; destination held ${ACC[$it]}"
    case $it in
    baseline) note="$note; spew | cat > file" ;;
    miniinit) note="$note (each line prefixed \"$PFX\"); log_prefix = true, miniinit's stdout to the file" ;;
    supervisord) note="$note; stdout_logfile, no rotation" ;;
    s6-log) note="$note; rotation at 256 MiB (s6-log maximum)" ;;
    svlogd) note="$note; svlogd default 1024-byte buffer" ;;
    esac
    if [[ -n ${ERRS[$it]:-} ]]; then note="$note; NOT ALL ACCOUNTED FOR: ${ERRS[$it]% }"; else note="$note; every line and byte accounted for"; fi
    vsc=$(mid "${VSC[$it]:-}")
    [[ $it == miniinit ]] && vsc=-
    result B8 "$FIG" "$name" "$(mid "${RATES[$it]}") MiB/s" "$(fmt_xs "$(mid "${VSB[$it]:-}")")" "$(fmt_xs "$vsc")" "$note"
done

# Targets: at least supervisord's rate (cand/supervisord time <= 1), and
# every byte accounted for.
what="log throughput with line prefixes, $SIZE"
if [[ -n ${RATES[miniinit]:-} && -n ${VSC[supervisord]:-} ]]; then
    x=$(mid "${VSC[supervisord]}")
    target B8 "$what" ">= supervisord's rate" \
        "$(mid "${RATES[miniinit]}") MiB/s vs $(mid "${RATES[supervisord]}") MiB/s ($(awk -v x="$x" 'BEGIN{printf "%.2f", 1/x}')x supervisord's rate)" "$(verdict "$x" 1)"
else
    target B8 "$what" ">= supervisord's rate" "n/a" "n/a"
fi
if [[ -n ${RATES[miniinit]:-} ]]; then
    if [[ -z ${ERRS[miniinit]:-} ]]; then v="met in this run"; else v="missed in this run"; fi
    target B8 "every line and byte of the log accounted for" "$LINES lines, $((BYTES + LINES * ${#PFX})) bytes (with \"$PFX\")" \
        "${ACC[miniinit]}${ERRS[miniinit]:+; ${ERRS[miniinit]% }}" "$v"
fi

cmdline B8 baseline "$SPEW" -t "\$WORK/start" "$BYTES" '|' cat '>' "\$WORK/out"
cmdline B8 "$CAND_NAME" "$MINIINIT_BIN" -s -c "\$WORK/sup/bench.toml" '>' "\$WORK/out.log" "  # [[workload]] name = \"w1\", command = \"$SPEW\", args = [\"-t\", \"\$WORK/start\", \"$BYTES\"], log_prefix = true"
cmdline B8 supervisord supervisord -n -c "\$WORK/sup/supervisord.conf" "  # [program:w1] command=$SPEW -t \$WORK/start $BYTES, autorestart=false, stdout_logfile=\$WORK/out.log, stdout_logfile_maxbytes=0"
cmdline B8 s6-log "$SPEW" -t "\$WORK/start" "$BYTES" '|' s6-log n20 s268435455 "\$WORK/log"
cmdline B8 svlogd "$SPEW" -t "\$WORK/start" "$BYTES" '|' svlogd "\$WORK/log" "  # config: s268435455 n20"
