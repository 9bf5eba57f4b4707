#!/usr/bin/env bash
# B2 memory: VmRSS (from /proc/PID/status) of each init while it supervises
# `sleep 60`, as PID 1 of a new pid namespace and as a plain process, and the
# size of its binary (/proc/PID/exe, static or dynamic).  Targets for
# miniinit: VmRSS <= 2.5 MiB, binary <= 3 MiB.
# Baseline: the VmRSS of the `sleep 60` workload itself.  The inits take turns
# (rotating order) for ROUNDS rounds; figures are medians, and cand/this is the
# ratio of the medians (RSS hardly drifts, unlike time).  RssAnon (the
# init's own private memory) and Pss (shared libc pages split between their
# users) are in the note: a dynamic init's VmRSS counts all of libc.
#
# env: MINIINIT, MINIINIT_PLAIN, CAND_NAME, PEERS, ROUNDS (default 3, QUICK 1),
#      SETTLE (seconds between exec of sleep and the reading; default 0.3)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

ROUNDS=${ROUNDS:-$(quick 3 1)}
SETTLE=${SETTLE:-0.3}
SLEEP=$(command -v sleep)
raw=$RAW_DIR/B2.txt
: >"$raw"

# status_of PID -> "rss anon pss file"
status_of() {
    local pid=$1 rss anon pss file
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null)
    anon=$(awk '/^RssAnon:/{print $2}' "/proc/$pid/status" 2>/dev/null)
    file=$(awk '/^RssFile:/{print $2}' "/proc/$pid/status" 2>/dev/null)
    pss=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
    echo "${rss:-0} ${anon:-0} ${pss:-0} ${file:-0}"
}

# wait_sleep_child PID: until PID has a child that runs `sleep` (exec done).
# Children are listed per thread, and a Go program may fork from any thread.
wait_sleep_child() {
    local pid=$1 n=200 c
    while ((n-- > 0)); do
        # shellcheck disable=SC2013 # pids separated by spaces
        for c in $(cat "/proc/$pid/task/"*/children 2>/dev/null); do
            [[ $(cat "/proc/$c/comm" 2>/dev/null) == sleep ]] && return 0
        done
        sleep 0.02
    done
    return 1
}

wait_gone() { # PID TENTHS
    local pid=$1 n=$2
    while ((n-- > 0)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# measure MODE(plain|pidns) PREFIX... -> "rss anon pss file exe" or "ERR why"
# Every run is under nsrun: with -p the init is PID 1 of a new pid namespace
# (SIGKILL to it ends the namespace); with -k nsrun is a subreaper that kills
# and reaps whatever is left, so nothing outlives a run.
measure() {
    local mode=$1; shift
    local pf runner ipid opt=-k
    [[ $mode == pidns ]] && opt=-p
    pf=$(mktemp -u "$WORK/pid.XXXXXX")
    "$BIN/nsrun" "$opt" -t 30 -P "$pf" -- "$@" "$SLEEP" 60 >>"$WORK/b2.console" 2>&1 &
    runner=$!
    for _ in $(seq 150); do [[ -s $pf ]] && break; sleep 0.02; done
    ipid=$(cat "$pf" 2>/dev/null)
    if [[ -z $ipid ]]; then
        echo "ERR no-pid"
        kill -KILL "$runner" 2>/dev/null; wait "$runner" 2>/dev/null
        return
    fi
    if [[ $# -eq 0 ]]; then # baseline: the sleep itself
        for _ in $(seq 150); do [[ $(cat "/proc/$ipid/comm" 2>/dev/null) == sleep ]] && break; sleep 0.02; done
    elif ! wait_sleep_child "$ipid"; then
        echo "ERR sleep-child-not-seen"
        kill -KILL "$ipid" 2>/dev/null; wait "$runner" 2>/dev/null
        return
    fi
    sleep "$SETTLE"
    echo "$(status_of "$ipid") $(readlink "/proc/$ipid/exe")"
    if [[ $mode == pidns ]]; then
        kill -KILL "$ipid" 2>/dev/null
    else
        kill -TERM "$ipid" 2>/dev/null # a forwarding init passes it on to sleep
        wait_gone "$ipid" 30 || kill -KILL "$ipid" 2>/dev/null
    fi
    wait "$runner" 2>/dev/null
}

bin_size() { stat -L -c %s "$1" 2>/dev/null || echo 0; }
bin_kind() { readelf -l "$1" 2>/dev/null | grep -q 'program interpreter' && echo dynamic || echo static; }

mapfile -t peers < <(init_peers floor)
items=("baseline|pidns|")
cand_ok=0
for p in "${peers[@]}"; do
    IFS='|' read -r name plain pid1 <<<"$p"
    if [[ $plain == '!' ]]; then
        result B2 "VmRSS supervising sleep 60, PID 1" "$name" "n/a" "-" "-" "n/a: $pid1"
        [[ $name == "$CAND_NAME" ]] && {
            target B2 "$CAND_NAME VmRSS as PID 1" "<= 2.5 MiB" "-" "n/a"
            target B2 "$CAND_NAME binary size" "<= 3 MiB" "-" "n/a"
        }
        continue
    fi
    [[ $name == "$CAND_NAME" ]] && cand_ok=1
    items+=("$name|pidns|$pid1" "$name|plain|$plain")
    cmdline B2 "$name (pidns)" nsrun -p -- "$pid1" "$SLEEP" 60
    cmdline B2 "$name (plain)" nsrun -k -- "$plain" "$SLEEP" 60
done
log "B2: ${#items[@]} runs x $ROUNDS rounds"

declare -A rss anon pss file exe
k=${#items[@]}
for ((r = 0; r < ROUNDS; r++)); do
    for ((j = 0; j < k; j++)); do
        IFS='|' read -r name mode prefix <<<"${items[$(((r + j) % k))]}"
        # shellcheck disable=SC2086
        out=$(measure "$mode" $prefix)
        echo "round=$r item=$name mode=$mode -> $out" >>"$raw"
        read -r a b c d e <<<"$out"
        [[ $a == ERR ]] && { exe["$name|$mode"]="ERR:$b"; continue; }
        rss["$name|$mode"]+="$a "
        anon["$name|$mode"]+="$b "
        pss["$name|$mode"]+="$c "
        file["$name|$mode"]+="$d "
        exe["$name|$mode"]=$e
    done
done

med_of() { tr ' ' '\n' <<<"${1:-}" | grep -v '^$' | median; }
mib() { awk -v k="$1" 'BEGIN{printf "%.2f MiB", k/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (a>0 && b>0) printf "%.4f", a/b; else print "-"}'; }

c_pid1=$(med_of "${rss[$CAND_NAME|pidns]:-}")
c_plain=$(med_of "${rss[$CAND_NAME|plain]:-}")
c_exe=${exe[$CAND_NAME|pidns]:-}
c_size=0
[[ -n $c_exe && $c_exe != ERR:* ]] && c_size=$(bin_size "$c_exe")
base=$(med_of "${rss[baseline|pidns]:-}")
result B2 "VmRSS supervising sleep 60, PID 1" "baseline" "${base:-?} KiB" "1.00x" "$(fmt_x "$(ratio "$c_pid1" "$base")")" \
    "VmRSS of sleep 60 itself as PID 1; RssAnon $(med_of "${anon[baseline|pidns]:-}") KiB"
for it in "${items[@]:1}"; do
    IFS='|' read -r name mode _ <<<"$it"
    [[ $mode == plain ]] && continue
    if [[ ${exe[$name|pidns]:-} == ERR:* || -z ${rss[$name|pidns]:-} ]]; then
        result B2 "VmRSS supervising sleep 60, PID 1" "$name" "n/a" "-" "-" "failed: ${exe[$name|pidns]:-no data}"
        continue
    fi
    m=$(med_of "${rss[$name|pidns]}")
    mp=$(med_of "${rss[$name|plain]:-}")
    e=${exe[$name|pidns]}
    vs=-
    vsp=-
    vsb=-
    if [[ $name != "$CAND_NAME" ]] && ((cand_ok)); then
        vs=$(ratio "$c_pid1" "$m")
        vsp=$(ratio "$c_plain" "$mp")
        vsb=$(ratio "$c_size" "$(bin_size "$e")")
    fi
    result B2 "VmRSS supervising sleep 60, PID 1" "$name" "$m KiB" "$(fmt_x "$(ratio "$m" "$base")")" "$(fmt_x "$vs")" \
        "RssAnon $(med_of "${anon[$name|pidns]}") KiB; RssFile $(med_of "${file[$name|pidns]}") KiB; Pss $(med_of "${pss[$name|pidns]}") KiB; n=$(wc -w <<<"${rss[$name|pidns]}")"
    result B2 "VmRSS supervising sleep 60, plain process" "$name" "${mp:-?} KiB" "$(fmt_x "$(ratio "$mp" "$base")")" "$(fmt_x "$vsp")" \
        "RssAnon $(med_of "${anon[$name|plain]:-}") KiB; RssFile $(med_of "${file[$name|plain]:-}") KiB; Pss $(med_of "${pss[$name|plain]:-}") KiB"
    result B2 "binary size" "$name" "$(($(bin_size "$e") / 1024)) KiB" "-" "$(fmt_x "$vsb")" "$(bin_kind "$e"): $e"
done
if ((cand_ok)); then
    lim=$((5 * 1024 / 2))
    target B2 "$CAND_NAME VmRSS as PID 1" "<= 2.5 MiB" "$(mib "$c_pid1")" "$(verdict "$c_pid1" "$lim")"
    target B2 "$CAND_NAME VmRSS as a plain process" "<= 2.5 MiB" "$(mib "$c_plain")" "$(verdict "$c_plain" "$lim")"
    target B2 "$CAND_NAME binary size ($(bin_kind "$c_exe"))" "<= 3 MiB" "$(mib $((c_size / 1024)))" "$(verdict "$c_size" $((3 * 1024 * 1024)))"
fi
