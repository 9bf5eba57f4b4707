#!/usr/bin/env bash
# The project's benchmarks: miniinit against tini, tini-static, dumb-init and
# catatonit (B1-B5), minispawn against unshare+chroot, bwrap,
# systemd-nspawn, crun and runc (B6), miniinit as a supervisor against
# supervisord, s6 and runit (B7-B9).  Run by `make bench` (after deps and
# build), as root.  Progress goes to stderr; the results go to
# results/latest.tsv (one line per figure) and results/latest.md (tables).
#
#   contrib/bench/run.sh                  everything, 2-3 minutes (more when busy)
#   ONLY="b1 b4" contrib/bench/run.sh     a subset (names or numbers)
#   QUICK=1 contrib/bench/run.sh          fewer rounds, to check that it runs
#   ONLY="b7 b8 b9" OUT=contrib/bench/results/supervisors contrib/bench/run.sh
#                                         the supervisor benchmarks, into their
#                                         committed results (see README.md)
#
# A run with ONLY or QUICK writes into results/raw/ (git-ignored), so that a
# quick check never replaces the committed full results; OUT=DIR overrides.
#
# Candidates (see README.md): MINIINIT (prefix, default "bin/miniinit --"),
# MINIINIT_PLAIN, CAND_NAME, SPAWN (template, default
# "bin/minispawn -c {CONFIG}"), SPAWN_NAME.  PEERS=a,b limits the peers.
# A candidate that does not build or run yet is reported as "n/a: why".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1

all=(b1_startup b2_memory b3_reap b4_signals b5_exitcodes b6_spawn b7_restart b8_logs b9_supervise_rss)
selected() { # b3_reap -> 0 if ONLY is empty or names b3 or reap
    [[ -z ${ONLY:-} ]] && return 0
    local w
    for w in ${ONLY//,/ }; do
        [[ $w == "${1%%_*}" || $w == "${1#*_}" || $w == "$1" ]] && return 0
    done
    return 1
}

if [[ $(id -u) != 0 ]]; then
    echo "bench: needs root (namespaces, cgroups, container runtimes)" >&2
    exit 1
fi

partial_run=0
[[ -n ${ONLY:-} || (-n ${QUICK:-} && ${QUICK:-0} != 0) ]] && partial_run=1
if ((partial_run)); then out_dir=${OUT:-$here/results/raw}; else out_dir=${OUT:-$here/results}; fi
mkdir -p "$out_dir" "$here/results/raw"
tsv=$out_dir/latest.tsv
tmp=$tsv.partial

# systemd-nspawn is a peer of B6 only; deps.sh does not install it.  Take the
# systemd-container build that matches the installed systemd, so that
# installing it never upgrades systemd itself; if apt has no such build,
# B6 reports nspawn as n/a.
ensure_nspawn() {
    command -v systemd-nspawn >/dev/null 2>&1 && return 0
    selected b6_spawn || return 0
    case ${PEERS:-all} in all | *systemd-nspawn*) ;; *) return 0 ;; esac
    local v
    v=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null) || return 0
    echo "bench: installing systemd-container=$v (for the systemd-nspawn peer)" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "systemd-container=$v" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "systemd-container=$v" >/dev/null 2>&1 ||
            echo "bench: systemd-container=$v not available; nspawn will be n/a" >&2
    fi
}
ensure_nspawn

# supervisord, s6 and runit are the peers of B7-B9 (supervisors, not inits).
# Installed here when one of those benchmarks runs and a peer is missing;
# one that cannot be installed is reported as n/a.
ensure_supervisors() {
    selected b7_restart || selected b8_logs || selected b9_supervise_rss || return 0
    local want=() p
    have_cmd() { command -v "$1" >/dev/null 2>&1; }
    have_cmd supervisord || want+=(supervisor)
    have_cmd s6-svscan || want+=(s6)
    have_cmd runsvdir || want+=(runit)
    ((${#want[@]})) || return 0
    echo "bench: installing ${want[*]} (peers of B7-B9)" >&2
    for p in "${want[@]}"; do
        # runit's package must not become this machine's init: runit (the
        # tools), never runit-init
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; } ||
            echo "bench: $p not installed; its figures will be n/a" >&2
    done
}
ensure_supervisors

"$here/lib/build.sh" || { echo "bench: build of the C helpers failed" >&2; exit 1; }

first_line() { "$@" 2>&1 | head -n1; }
host() { printf 'HOST\t%s\t%s\n' "$1" "$2"; }
cgroup_mode() {
    if [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
        echo "v2 (unified)"
    elif [[ -f /sys/fs/cgroup/unified/cgroup.controllers ]]; then
        local c
        c=$(cat /sys/fs/cgroup/unified/cgroup.controllers)
        echo "v1 hybrid: controllers on /sys/fs/cgroup/*, cgroup2 at /sys/fs/cgroup/unified with: ${c:-none}"
    else
        echo "v1 (legacy)"
    fi
}
bin_desc() {
    local f=$root/$1
    [[ -x $f ]] || { echo "not built"; return; }
    echo "$(stat -c %s "$f") bytes, built $(date -u -r "$f" '+%Y-%m-%d %H:%M UTC')"
}
t_all=$(date +%s)
{
    host date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    host mode "$( ((partial_run)) && echo "partial (ONLY='${ONLY:-}' QUICK='${QUICK:-}')" || echo full)"
    host cpu "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1))"
    host memory "$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    host kernel "$(uname -r)"
    host debian "$(cat /etc/debian_version 2>/dev/null || echo '?')"
    host cgroups "$(cgroup_mode)"
    host "systemd as PID 1" "$([[ $(cat /proc/1/comm 2>/dev/null) == systemd ]] && echo yes || echo no)"
    host "load at start" "$(cut -d' ' -f1-3 /proc/loadavg)"
    host tree "$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
    host "bin/miniinit" "$(bin_desc bin/miniinit)"
    host "bin/minispawn" "$(bin_desc bin/minispawn)"
    def_spawn='bin/minispawn -c {CONFIG}'
    host "init candidate" "${CAND_NAME:-miniinit}"
    host "spawn candidate" "${SPAWN_NAME:-minispawn}"
    host "candidates" "MINIINIT='${MINIINIT:-bin/miniinit --}' SPAWN='${SPAWN:-$def_spawn}'"
    peers=""
    for c in tini tini-static dumb-init catatonit bwrap crun runc systemd-nspawn; do
        command -v "$c" >/dev/null 2>&1 && peers+="$c: $(first_line "$c" --version | sed 's/^tini version //'); "
    done
    for c in supervisor s6 runit; do
        v=$(dpkg-query -W -f='${Version}' "$c" 2>/dev/null) && peers+="$c: $v; "
    done
    host peers "${peers%; }"
} >"$tmp"

for b in "${all[@]}"; do
    selected "$b" || continue
    t0=$(date +%s)
    echo "bench: == $b" >&2
    "$here/$b.sh" >>"$tmp"
    echo "bench: == $b took $(($(date +%s) - t0)) s" >&2
done
{
    host "load at end" "$(cut -d' ' -f1-3 /proc/loadavg)"
    host took "$(($(date +%s) - t_all)) s"
} >>"$tmp"
mv "$tmp" "$tsv"
"$here/lib/report.sh" "$tsv" >"$out_dir/latest.md"
echo "bench: all took $(($(date +%s) - t_all)) s; results in ${out_dir#"$root"/}/latest.md and latest.tsv" >&2
awk -F'\t' '$1=="TARGET"{printf "bench: target %s: %s: %s (target %s) -> %s\n", $2, $3, $5, $4, $6}' "$tsv" >&2
