#!/usr/bin/env bash
# B6 spawn: wall time to run /bin/true in a fresh container whose root is a
# minimal busybox-static tree (bin/busybox, links sh true ps mount sleep, and
# empty proc dev sys tmp etc usr), and the peak RSS of the spawner's tree
# (ru_maxrss from wait4: the largest single process that was waited for).
#   baseline        unshare -pfmuin --mount-proc chroot ROOTFS /bin/true (the floor)
#   bwrap           bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev /bin/true
#   systemd-nspawn  systemd-nspawn -q --register=no --keep-unit -D ROOTFS /bin/true
#   crun, runc      crun|runc run -b BUNDLE ID (config.json from `crun spec`:
#                   terminal off, args /bin/true, read-only root = ROOTFS)
#   the candidate   SPAWN, a template (default: minispawn's config form)
# All take turns in one benchtime call (RUNS rounds); ratios are per round.
#
# SPAWN may use {CONFIG} (a TOML file written here: name "bench", rootfs
# ROOTFS, one workload "true" running /bin/true), {ROOTFS}, {BUNDLE} and
# {CMD} (/bin/true), e.g.
#   SPAWN='bin/minispawn -c {CONFIG}'                      (the default)
#   SPAWN='bin/minispawn run --rootfs {ROOTFS} -- {CMD}'
# A relative first word is taken from the repository root.  A spawner that
# fails its one untimed try is reported as "n/a: <its error>".
#
# Host workarounds, applied to every spawner alike (this VM has no systemd as
# PID 1 and a hybrid cgroup layout whose v2 hierarchy holds hugetlb):
#   * all run in a private mount namespace in which /sys/fs/cgroup/unified is
#     unmounted, because crun refuses hybrid mode while cgroup2 has any
#     controller; this way every spawner sees plain cgroup v1;
#   * all run in a scratch name=systemd cgroup that is removed afterwards,
#     because systemd-nspawn --keep-unit makes payload/ and supervisor/
#     cgroups under its own (it needs --keep-unit: no system bus here);
#   * nspawn refuses a root without /usr, hence the empty usr/.
#
# env: SPAWN, SPAWN_NAME (default minispawn), PEERS (unshare+chroot is always
#      run; bwrap,systemd-nspawn,crun,runc), RUNS (default 60, QUICK 10)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

RUNS=${RUNS:-$(quick 60 10)}
default_spawn='bin/minispawn -c {CONFIG}'
SPAWN=${SPAWN:-$default_spawn}
SPAWN_NAME=${SPAWN_NAME:-minispawn}
FIG="spawn /bin/true in a busybox root"
raw=$RAW_DIR/B6.txt
: >"$raw"
BB=$(command -v busybox) || { result B6 "$FIG" all n/a - - "n/a: busybox not installed (busybox-static)"; exit 0; }

# --- rootfs, inside the OCI bundle so that crun spec's "rootfs" points at it
BUNDLE=$WORK/bundle
ROOTFS=$BUNDLE/rootfs
mkdir -p "$ROOTFS"/{bin,proc,dev,sys,tmp,etc,usr}
cp "$BB" "$ROOTFS/bin/busybox"
for l in sh true ps mount sleep; do ln -s busybox "$ROOTFS/bin/$l"; done
if readelf -l "$ROOTFS/bin/busybox" 2>/dev/null | grep -q 'program interpreter'; then
    log "warning: $BB is dynamic: install busybox-static"
fi
if have crun; then (cd "$BUNDLE" && crun spec); elif have runc; then (cd "$BUNDLE" && runc spec); fi
if [[ -f $BUNDLE/config.json ]]; then
    # edit the generated spec in place: no tty, run /bin/true
    sed -i -e 's/"terminal": true/"terminal": false/' \
        -e '/"args": \[/,/\]/ s/"sh"/"\/bin\/true"/' "$BUNDLE/config.json"
fi
CONFIG=$WORK/bench.toml
cat >"$CONFIG" <<EOF
name = "bench"

[rootfs]
path = "$ROOTFS"

[[workload]]
name = "true"
command = "/bin/true"
EOF
CID=minispawn-bench-$$
on_exit "crun delete -f $CID-crun >/dev/null 2>&1; runc delete -f $CID-runc >/dev/null 2>&1"

# --- the environment every spawner runs in (see the header)
CG=/sys/fs/cgroup/systemd/minispawn-bench-$$
CGOK=0
if [[ -d /sys/fs/cgroup/systemd ]] && mkdir "$CG" 2>/dev/null; then
    CGOK=1
    on_exit "for d in \$(find '$CG' -depth -type d 2>/dev/null); do rmdir \"\$d\" 2>/dev/null; done"
fi
in_env() {
    (
        ((CGOK)) && echo "$BASHPID" >"$CG/cgroup.procs"
        exec unshare -m --propagation private /bin/sh -c \
            'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"
    )
}

declare -A CMD WHY
order=(baseline bwrap systemd-nspawn crun runc "$SPAWN_NAME")
CMD[baseline]="$(command -v unshare) -pfmuin --mount-proc $(command -v chroot) $ROOTFS /bin/true"
have bwrap && CMD[bwrap]="$(command -v bwrap) --unshare-all --bind $ROOTFS / --proc /proc --dev /dev /bin/true" || WHY[bwrap]="bwrap not installed"
have systemd-nspawn && CMD[systemd-nspawn]="$(command -v systemd-nspawn) -q --register=no --keep-unit -D $ROOTFS /bin/true" || WHY[systemd-nspawn]="systemd-nspawn not installed (systemd-container)"
have crun && CMD[crun]="$(command -v crun) run -b $BUNDLE $CID-crun" || WHY[crun]="crun not installed"
have runc && CMD[runc]="$(command -v runc) run -b $BUNDLE $CID-runc" || WHY[runc]="runc not installed"
t=$SPAWN
true_cmd=/bin/true
t=${t//"{CONFIG}"/$CONFIG}
t=${t//"{ROOTFS}"/$ROOTFS}
t=${t//"{BUNDLE}"/$BUNDLE}
t=${t//"{CMD}"/$true_cmd}
[[ $t == /* ]] || t="$ROOT/$t"
if [[ -x ${t%% *} ]]; then CMD[$SPAWN_NAME]=$t; else WHY[$SPAWN_NAME]="${SPAWN%% *} not found (make build)"; fi

names=()
cmds=()
for k in "${order[@]}"; do
    if [[ $k != baseline && $k != "$SPAWN_NAME" ]] && ! peer_selected "$k"; then continue; fi
    if [[ -z ${CMD[$k]:-} ]]; then
        result B6 "$FIG" "$k" "n/a" "-" "-" "n/a: ${WHY[$k]}"
        continue
    fi
    # shellcheck disable=SC2086 # a command line, split on purpose
    cmdline B6 "$k" ${CMD[$k]}
    # one untimed try in the same environment: say why if it cannot run here
    # shellcheck disable=SC2086
    errout=$(timeout 30 bash -c "$(declare -f in_env); CG=$CG CGOK=$CGOK; in_env ${CMD[$k]}" 2>&1 </dev/null)
    rc=$?
    if ((rc != 0)); then
        echo "precheck $k failed with $rc: $errout" >>"$raw"
        why=$(tr '\n' ' ' <<<"$errout" | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-200)
        result B6 "$FIG" "$k" "n/a" "-" "-" "n/a: does not run here: exit $rc${why:+: $why}"
        [[ $k == baseline ]] && exit 0
        continue
    fi
    names+=("$k")
    [[ ${#cmds[@]} -gt 0 ]] && cmds+=(::)
    # shellcheck disable=SC2206
    cmds+=(${CMD[$k]})
done

copt=()
[[ " ${names[*]} " == *" $SPAWN_NAME "* ]] && copt=(-c "$SPAWN_NAME")
log "B6: ${#names[@]} spawners x $RUNS rounds"
out=$(in_env "$BIN/benchtime" -n "$RUNS" -w 2 -t 30 -o "$WORK/b6.out" "${copt[@]}" \
    -r "$raw.rounds" -l "$(IFS=,; echo "${names[*]}")" -- "${cmds[@]}")
{ echo "$out"; echo "## spawner output (last lines):"; tail -n 20 "$WORK/b6.out" 2>/dev/null; } >>"$raw"
floor=$(sed -n 's/.*rss_floor_kib=\([0-9]*\).*/\1/p' <<<"$out")
cand_rss=$(kv "$(grep "^BT name=$SPAWN_NAME " <<<"$out")" rss_kib)
while read -r line; do
    k=$(kv "$line" name)
    vs=$(kv "$(grep "^VS cand=$SPAWN_NAME peer=$k " <<<"$out")" ratio)
    rss=$(kv "$line" rss_kib)
    rv=""
    [[ -n $cand_rss && $k != "$SPAWN_NAME" ]] && rv=", cand/this $(awk -v a="$cand_rss" -v b="$rss" 'BEGIN{printf "%.2fx", (b>0)?a/b:0}')"
    note="peak RSS $rss KiB$rv (harness floor ~${floor} KiB); min $(fmt_ms "$(kv "$line" min_us)"); n=$(kv "$line" n); bad $(kv "$line" bad) ($(kv "$line" last))"
    case $k in
    baseline) note="$note; pid+mount+uts+ipc+net namespaces, no cgroup" ;;
    bwrap) note="$note; --unshare-all: user+pid+net+ipc+uts+cgroup namespaces" ;;
    systemd-nspawn) note="$note; --keep-unit (no system bus); no netns" ;;
    crun | runc) note="$note; default spec: pid+net+ipc+uts+mount namespaces, cgroup v1" ;;
    esac
    result B6 "$FIG" "$k" "$(fmt_ms "$(kv "$line" med_us)")" "$(fmt_x "$(kv "$line" ratio)")" "$(fmt_x "${vs:--}")" "$note"
    [[ $k == "$SPAWN_NAME" ]] && target B6 "spawn, $SPAWN_NAME / unshare+chroot floor" "none (reported)" "$(fmt_x "$(kv "$line" ratio)")" "-"
done < <(grep '^BT ' <<<"$out")
