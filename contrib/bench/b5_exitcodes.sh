#!/usr/bin/env bash
# B5 exit codes.  The workload (exiter) exits 0, exits 3, kills itself with
# SIGKILL, or kills itself with SIGTERM.  Each init runs it as a plain process
# and as PID 1 of a new pid namespace; nsrun reports the init's raw wait
# status.  Expected of a container init: 0, 3, 137 (128+9), 143 (128+15).
# Baseline: the workload with no init.  As PID 1 with no init it cannot kill
# itself (PID 1 ignores signals it has no handler for, SIGKILL from inside
# included) and exits 99 instead, which is why containers need an init.
#
# env: MINIINIT, MINIINIT_PLAIN, CAND_NAME, PEERS
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

raw=$RAW_DIR/B5.txt
: >"$raw"
CASES=(0 3 kill9 term)
EXPECT=("exited 0" "exited 3" "exited 137" "exited 143")

mapfile -t peers < <(init_peers nofloor)
items=("baseline||")
for p in "${peers[@]}"; do
    IFS='|' read -r name plain pid1 <<<"$p"
    if [[ $plain == '!' ]]; then
        result B5 "exit status 0/3/SIGKILL/SIGTERM, PID 1" "$name" "n/a" "-" "-" "n/a: $pid1"
        result B5 "exit status 0/3/SIGKILL/SIGTERM, plain process" "$name" "n/a" "-" "-" "n/a: $pid1"
        [[ $name == "$CAND_NAME" ]] && target B5 "$CAND_NAME exit codes, PID 1 and plain" "0/3/137/143" "-" "n/a"
        continue
    fi
    items+=("$name|$plain|$pid1")
done
cmdline B5 "any (pidns)" nsrun -p -t 20 -- PREFIX exiter "0|3|kill9|term"
cmdline B5 "any (plain)" nsrun -k -t 20 -- PREFIX exiter "0|3|kill9|term"

short() { # "exited 3" -> "3", "signaled 9" -> "sig9"
    case $1 in
    exited*) echo "${1#exited }" ;;
    signaled*) echo "sig${1#signaled }" ;;
    timeout*) echo "timeout" ;;
    *) echo "?" ;;
    esac
}

log "B5: ${#items[@]} inits x 4 cases x 2 modes"
cand_all=""
for it in "${items[@]}"; do
    IFS='|' read -r name plain pid1 <<<"$it"
    for mode in pidns plain; do
        got=()
        ok=0
        for i in "${!CASES[@]}"; do
            c=${CASES[$i]}
            sf=$(mktemp "$WORK/st.XXXXXX")
            if [[ $mode == plain ]]; then
                # shellcheck disable=SC2086
                "$BIN/nsrun" -k -t 20 -S "$sf" -- $plain "$BIN/exiter" "$c" >>"$WORK/b5.out" 2>&1
            else
                # shellcheck disable=SC2086
                "$BIN/nsrun" -p -t 20 -S "$sf" -- $pid1 "$BIN/exiter" "$c" >>"$WORK/b5.out" 2>&1
            fi
            st=$(tail -n1 "$sf" 2>/dev/null)
            [[ -n $st ]] || st="no status"
            echo "$name mode=$mode case=$c -> $st" >>"$raw"
            got+=("$(short "$st")")
            [[ $st == "${EXPECT[$i]}" ]] && ok=$((ok + 1))
        done
        [[ $mode == plain ]] && fig="exit status 0/3/SIGKILL/SIGTERM, plain process" || fig="exit status 0/3/SIGKILL/SIGTERM, PID 1"
        val="$(IFS=/; echo "${got[*]}")"
        if [[ $name == baseline ]]; then
            note="no init: the caller sees the signal itself"
            [[ $mode == pidns ]] && note="the workload is PID 1: its own SIGKILL/SIGTERM are ignored, so it exits 99"
            result B5 "$fig" "$name" "$val" "-" "-" "$note"
        else
            note="$ok/4 as expected"
            ((ok == 4)) || note="$note; differs from 0/3/137/143"
            result B5 "$fig" "$name" "$val" "-" "-" "$note"
            [[ $name == "$CAND_NAME" ]] && cand_all+="$mode:$val "
        fi
    done
done
if [[ -n $cand_all ]]; then
    v="met in this run"
    [[ $cand_all == "pidns:0/3/137/143 plain:0/3/137/143 " ]] || v="missed in this run"
    target B5 "$CAND_NAME exit codes, PID 1 and plain" "0/3/137/143" "${cand_all% }" "$v"
fi
