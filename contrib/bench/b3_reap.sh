#!/usr/bin/env bash
# B3 zombie reaping, with each init as PID 1 of a new pid namespace
# (`unshare -pf --mount-proc INIT orphans ...`).  orphans double-forks, so
# every grandchild is re-parented to PID 1 and only the init can reap it.
#
#   * burst drain (the reaper's own speed): `orphans -b 1000 5000` keeps 1000
#     grandchildren blocked on a pipe until all are re-parented, releases them
#     at once, and times until the last one is reaped (kill(pid,0) -> ESRCH);
#     five bursts per run.  Figure: orphans reaped per second of drain.
#     Baseline: the workload as PID 1 reaping its own burst (waitpid loop).
#     cand/this: median over single bursts (run r, burst b of the candidate
#     against run r, burst b of the peer) of the ratio of drain times, the
#     inverse ratio of rates: >1 means the candidate drains slower.
#   * zero zombies: `orphans N` with N=20000 orphans that exit at once; the
#     workload then counts zombies whose parent is PID 1 until none is left
#     and fails if one stays 1 s without progress.  That run is bound by fork
#     speed, so its rate says little; the verdict is the figure.  Only the
#     candidate and the self-reaping baseline run it (ZOMBIE_ALL=1: every
#     peer too), as it takes 4-20 s per init on a busy 2-core machine.
#   * control: the workload as PID 1 with no reaper (N=2000) must leave
#     zombies, which shows that the check can fail.
#
# env: MINIINIT, CAND_NAME, PEERS, N (default 20000, QUICK 5000),
#      RUNS (burst runs, default 4, QUICK 1), NRUNS (zero-zombie runs,
#      default 1), BURST_N (default 5000), BURST_BATCH (default 1000), ZOMBIE_ALL
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

N=${N:-$(quick 20000 5000)}
RUNS=${RUNS:-$(quick 4 1)}
NRUNS=${NRUNS:-1}
BURST_N=${BURST_N:-5000}
BURST_BATCH=${BURST_BATCH:-1000}
UNSHARE=$(command -v unshare)
raw=$RAW_DIR/B3.txt
: >"$raw"
rep=$WORK/reports
mkdir -p "$rep"
burst_fig="burst drain, $BURST_BATCH orphans at once x $((BURST_N / BURST_BATCH)), PID 1"
zero_fig="zombies left after $N orphans, PID 1"

mapfile -t peers < <(init_peers nofloor)
names=(selfreap)
znames=(selfreap)
zcmds=("$UNSHARE" -pf --mount-proc "$BIN/orphans" -r -R "$rep/z.selfreap" "$N")
bcmds=("$UNSHARE" -pf --mount-proc "$BIN/orphans" -r -b "$BURST_BATCH" -R "$rep/b.selfreap" "$BURST_N")
cmdline B3 "baseline (burst)" "${bcmds[@]}"
cand_ok=0
for p in "${peers[@]}"; do
    IFS='|' read -r name plain pid1 <<<"$p"
    if [[ $plain == '!' ]]; then
        result B3 "$burst_fig" "$name" "n/a" "-" "-" "n/a: $pid1"
        [[ $name == "$CAND_NAME" ]] && result B3 "$zero_fig" "$name" "n/a" "-" "-" "n/a: $pid1"
        continue
    fi
    [[ $name == "$CAND_NAME" ]] && cand_ok=1
    names+=("$name")
    # shellcheck disable=SC2206
    b=("$UNSHARE" -pf --mount-proc $pid1 "$BIN/orphans" -b "$BURST_BATCH" -R "$rep/b.$name" "$BURST_N")
    # shellcheck disable=SC2206
    z=("$UNSHARE" -pf --mount-proc $pid1 "$BIN/orphans" -R "$rep/z.$name" "$N")
    cmdline B3 "$name (burst)" "${b[@]}"
    bcmds+=(:: "${b[@]}")
    if [[ $name == "$CAND_NAME" || -n ${ZOMBIE_ALL:-} ]]; then
        cmdline B3 "$name (zombies)" "${z[@]}"
        znames+=("$name")
        zcmds+=(:: "${z[@]}")
    fi
done
lst=$(IFS=,; echo "${names[*]}")

# ---- control first: no reaper at all
"$UNSHARE" -pf --mount-proc "$BIN/orphans" -R "$rep/control" 2000 >/dev/null 2>&1
ctl=$(tail -n1 "$rep/control" 2>/dev/null)
echo "control (no init, no reaping, N=2000): $ctl" >>"$raw"
if [[ $(kv "$ctl" verdict) == FAIL ]]; then
    result B3 "control: no reaper, 2000 orphans" "(control)" "$(kv "$ctl" zombies_left) zombies left" "-" "-" "the check detects unreaped orphans, as it must"
else
    result B3 "control: no reaper, 2000 orphans" "(control)" "UNEXPECTED: ${ctl:-no report}" "-" "-" "the zombie check did not detect a missing reaper: B3 figures are void"
fi

# ---- burst drain
log "B3 burst: ${#names[@]} commands x $RUNS runs (+1 warm-up)"
bout=$("$BIN/benchtime" -n "$RUNS" -w 1 -t 120 -o "$WORK/b3b.out" -l "$lst" -- "${bcmds[@]}")
{ echo "## burst"; echo "$bout"; for f in "$rep"/b.*; do echo "## $(basename "$f")"; cat "$f"; done; } >>"$raw"
# drain_ms per run with the warm-up (line 1) dropped; runs line up across
# files because benchtime runs every command once per round
drains() { sed -n 's/.*drain_ms=\([0-9.]*\).*/\1/p' "$1" 2>/dev/null | tail -n +2; }
# the drain time of every single burst, in the same order in every file
bursts() { sed -n 's/.*each_ms=\([0-9.,]*\).*/\1/p' "$1" 2>/dev/null | tail -n +2 | tr ',' '\n'; }
pair_ratio() { paste -d' ' <(echo "$1") <(echo "$2") | awk '$1>0 && $2>0{print $1/$2}' | median; }
cand_d=$(bursts "$rep/b.$CAND_NAME")
base_d=$(bursts "$rep/b.selfreap")
for n in "${names[@]}"; do
    f=$rep/b.$n
    d=$(drains "$f")
    label=$n
    [[ $n == selfreap ]] && label=baseline
    if [[ -z $d ]]; then
        result B3 "$burst_fig" "$label" "n/a" "-" "-" "no report: $(kv "$(grep "^BT name=$n " <<<"$bout")" last)"
        continue
    fi
    med=$(median <<<"$d")
    rate=$(awk -v n="$BURST_N" -v m="$med" 'BEGIN{printf "%.0f/s", (m>0)?n/(m/1000):0}')
    e=$(bursts "$f")
    vb=$(pair_ratio "$e" "$base_d")
    vs=-
    ((cand_ok)) && [[ $n != "$CAND_NAME" ]] && vs=$(pair_ratio "$cand_d" "$e")
    check="0 zombies left"
    fails=$(grep -c 'verdict=FAIL' "$f")
    ((fails > 0)) && check="FAIL: zombies left in $fails runs"
    result B3 "$burst_fig" "$label" "$rate" "$(fmt_x "$vb")" "$(fmt_x "$vs")" \
        "drain $(awk -v m="$med" 'BEGIN{printf "%.1f", m}') ms for $BURST_N (median of $(wc -l <<<"$d") runs); ratios over $(wc -l <<<"$e") single bursts; $check"
done
if ((cand_ok)); then
    t=$(pair_ratio "$cand_d" "$(bursts "$rep/b.tini")")
    target B3 "burst drain time, $CAND_NAME / tini" "none (reported)" "$(fmt_x "${t:--}")" "-"
fi

# ---- zero zombies after N orphans
log "B3 zombies: ${#znames[@]} commands x $NRUNS runs of $N orphans"
zout=$("$BIN/benchtime" -n "$NRUNS" -w 0 -t 180 -o "$WORK/b3z.out" -l "$(IFS=,; echo "${znames[*]}")" -- "${zcmds[@]}")
{ echo "## zombies"; echo "$zout"; for f in "$rep"/z.*; do echo "## $(basename "$f")"; cat "$f"; done; } >>"$raw"
cand_left=-
while read -r line; do
    n=$(kv "$line" name)
    f=$rep/z.$n
    seen=$(grep -c . "$f" 2>/dev/null)
    maxleft=$(sed -n 's/.*zombies_left=\([0-9-]*\).*/\1/p' "$f" 2>/dev/null | sort -n | tail -n1)
    label=$n
    [[ $n == selfreap ]] && label=baseline
    if [[ ${seen:-0} -eq 0 ]]; then
        val="n/a"
        note="no report (workload did not run; last=$(kv "$line" last))"
    else
        val="$maxleft zombies"
        note="max over $seen runs; wall $(fmt_ms "$(kv "$line" med_us)") ($(awk -v n="$N" -v u="$(kv "$line" med_us)" 'BEGIN{printf "%.0f", (u>0)?n/(u/1e6):0}') orphans/s, fork-bound); init exit $(kv "$line" last)"
    fi
    [[ $n == "$CAND_NAME" ]] && cand_left=${maxleft:--}
    result B3 "$zero_fig" "$label" "$val" "-" "-" "$note"
done < <(grep '^BT ' <<<"$zout")
if ((cand_ok)); then
    v="n/a"
    [[ $cand_left != - ]] && { [[ $cand_left == 0 ]] && v="met in this run" || v="missed in this run"; }
    target B3 "zombies left after $N orphans, $CAND_NAME as PID 1" "0" "$cand_left" "$v"
fi
