# shellcheck shell=bash disable=SC2034
# Start and stop the process supervisors of B7, B8 and B9.  Source after
# common.sh.  Every supervisor is started in the background by this shell,
# under `nsrun -k`, so only pids we started are ever signalled, and whatever
# a supervisor leaves behind when it exits is killed and reaped by nsrun.
#
#   sup_start NAME DIR CMD...   start supervisor NAME supervising CMD with
#                               restart always and no delay; sets SUP_PID
#                               (the supervisor) and SUP_RUNNER (its nsrun)
#   sup_start_many NAME DIR N CMD...
#                               the same with N copies of CMD (w1..wN)
#   sup_stop NAME DIR           stop it (and its services), reap it
#
# NAME: miniinit (the candidate, MINIINIT_BIN -c a TOML file) | supervisord
# | s6-supervise (s6-svscan for several services) | runsv (runsvdir for
# several).  Tuning: SUP_AUTORESTART (default true: restart always; false:
# run once), SUP_STDOUT_LOG (supervisord stdout_logfile; miniinit: the file
# its stdout goes to, with log_prefix = true), both default: none.

SUPERVISOR_PEERS_ALL="supervisord s6-supervise runsv"
# The candidate supervisor: miniinit with a TOML file (-s only silences the
# "not PID 1" warning).
MINIINIT_BIN=${MINIINIT_BIN:-$ROOT/bin/miniinit}

sup_available() { # name -> 0, or prints why not
    case $1 in
    miniinit) [[ -x $MINIINIT_BIN ]] || { echo "$MINIINIT_BIN not built (make build)"; return 1; } ;;
    supervisord) have supervisord || { echo "supervisord not on PATH"; return 1; } ;;
    s6-supervise) { have s6-supervise && have s6-svscan && have s6-svc; } || { echo "s6 not on PATH"; return 1; } ;;
    runsv) { have runsv && have runsvdir; } || { echo "runit not on PATH"; return 1; } ;;
    *) echo "unknown supervisor $1"; return 1 ;;
    esac
}

toml_str() { # word -> a TOML basic string
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# mi_config FILE DIR N CMD ARGS... : miniinit's TOML for N copies of CMD
mi_config() {
    local f=$1 dir=$2 n=$3 i a args=""
    shift 3
    local cmd=$1
    shift
    for a in "$@"; do args+="${args:+, }$(toml_str "$a")"; done
    {
        echo 'name = "bench"'
        echo '[rootfs]'
        echo 'path = "/"'
        echo '[init]'
        # a socket of its own: several runs must not share /run/miniinit.sock
        echo "control = $(toml_str "$dir/ctl.sock")"
        for ((i = 1; i <= n; i++)); do
            echo '[[workload]]'
            echo "name = \"w$i\""
            echo "command = $(toml_str "$cmd")"
            echo "args = [$args]"
            # the first one stands for the run: with several, a binary
            # built before main became optional refuses a file without it
            ((i == 1 && n > 1)) && echo 'main = true'
            if [[ ${SUP_AUTORESTART:-true} == true ]]; then
                echo 'restart = "always"'
                echo 'backoff = { initial = "0s" }'
            fi
            [[ -n ${SUP_STDOUT_LOG:-} ]] && echo 'log_prefix = true'
        done
    } >"$f"
}

# sup_write_run DIR CMD... : a service directory's run script (s6, runit)
sup_write_run() {
    local dir=$1
    shift
    mkdir -p "$dir"
    printf '#!/bin/sh\nexec %s\n' "$*" >"$dir/run"
    chmod +x "$dir/run"
}

sup_start() { local name=$1 dir=$2; shift 2; sup_start_many "$name" "$dir" 1 "$@"; }

sup_start_many() {
    local name=$1 dir=$2 n=$3 i
    shift 3
    local pf=$dir.pid
    mkdir -p "$dir"
    rm -f "$pf"
    local run=("$BIN/nsrun" -k -P "$pf" --)
    case $name in
    miniinit)
        mi_config "$dir/bench.toml" "$dir" "$n" "$@"
        "${run[@]}" "$MINIINIT_BIN" -s -c "$dir/bench.toml" >"${SUP_STDOUT_LOG:-/dev/null}" 2>>"$dir.console.log" &
        ;;
    supervisord)
        {
            cat <<CONF
[supervisord]
nodaemon=true
logfile=$dir/supervisord.log
pidfile=$dir/supervisord.pid
childlogdir=$dir
CONF
            for ((i = 1; i <= n; i++)); do
                cat <<CONF
[program:w$i]
command=$*
autostart=true
autorestart=${SUP_AUTORESTART:-true}
startsecs=0
startretries=1000000
stopsignal=TERM
stopwaitsecs=2
stdout_logfile=${SUP_STDOUT_LOG:-NONE}
stdout_logfile_maxbytes=0
stdout_logfile_backups=0
stderr_logfile=NONE
CONF
            done
        } >"$dir/supervisord.conf"
        "${run[@]}" supervisord -n -c "$dir/supervisord.conf" >>"$dir.console.log" 2>&1 &
        ;;
    s6-supervise)
        if ((n == 1)); then
            sup_write_run "$dir" "$@"
            "${run[@]}" s6-supervise "$dir" >>"$dir.console.log" 2>&1 &
        else
            for ((i = 1; i <= n; i++)); do sup_write_run "$dir/w$i" "$@"; done
            "${run[@]}" s6-svscan "$dir" >>"$dir.console.log" 2>&1 &
        fi
        ;;
    runsv)
        if ((n == 1)); then
            sup_write_run "$dir" "$@"
            "${run[@]}" runsv "$dir" >>"$dir.console.log" 2>&1 &
        else
            for ((i = 1; i <= n; i++)); do sup_write_run "$dir/w$i" "$@"; done
            "${run[@]}" runsvdir "$dir" >>"$dir.console.log" 2>&1 &
        fi
        ;;
    esac
    SUP_RUNNER=$!
    local k=0
    while [[ ! -s $pf ]] && ((k++ < 250)); do sleep 0.02; done
    SUP_PID=$(cat "$pf" 2>/dev/null)
    [[ -n $SUP_PID ]] || SUP_PID=$SUP_RUNNER
}

# sup_gone PID TENTHS -> 0 if PID exited within TENTHS/10 s
sup_gone() {
    local pid=$1 n=$2
    while ((n-- > 0)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

sup_stop() {
    local name=$1 dir=$2 pid=$SUP_PID
    case $name in
    s6-supervise)
        if [[ -f $dir/run ]]; then
            s6-svc -dx "$dir" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        else
            # s6-svscan: SIGTERM alone leaves it waiting; -t (via its
            # control fifo) stops every service and makes it exit
            s6-svscanctl -t "$dir" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        fi
        ;;
    runsv)
        if [[ -p $dir/supervise/control ]]; then
            printf 'dx' >"$dir/supervise/control"
        else
            # runsvdir: SIGHUP sends TERM to every runsv and exits
            kill -HUP "$pid" 2>/dev/null
        fi
        ;;
    *) kill -TERM "$pid" 2>/dev/null ;;
    esac
    if ! sup_gone "$pid" 50; then
        echo "bench: $name (pid $pid) did not stop in 5 s; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    # nsrun -k kills and reaps whatever the supervisor left behind
    wait "$SUP_RUNNER" 2>/dev/null
    return 0
}

# tree_of PID -> PID and all its descendants, one a line
tree_of() {
    local p
    echo "$1"
    # shellcheck disable=SC2013 # pids, one word each
    for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        tree_of "$p"
    done
}

# fmt_xs RATIO -> "1.23x", or two significant digits below 0.1 ("0.00082x")
fmt_xs() {
    [[ -z $1 || $1 == - ]] && { echo "-"; return; }
    awk -v r="$1" 'BEGIN{if (r >= 0.1) printf "%.2fx", r; else printf "%.2gx", r}'
}
