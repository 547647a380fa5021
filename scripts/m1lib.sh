# m1lib.sh: what m1start, m1stop, m1status and m1check share. POSIX sh,
# because cron gives them PATH=/usr/bin:/bin, no HOME and no terminal.
#
# M1_HOME defaults to the directory above this script; M1_BIN to
# $M1_HOME/bin. Processes are named as in the process table: dbx,
# sender.<ID>, dist, sch, tkm_files, eai_lsnr (`ipcq processes` lists them
# in start order).

set -u
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH

here=$(cd "$(dirname "$0")" && pwd)
M1_HOME=${M1_HOME:-$(cd "$here/.." && pwd)}
M1_BIN=${M1_BIN:-$M1_HOME/bin}
export M1_HOME

# The daemons keep small heaps and churn through records: collecting at
# 4x the live heap instead of Go's 2x cost a little memory and saved CPU
# (end to end on 2 cores, alternate runs: 5,206 and 5,569 msgs/s against
# 4,800 and 5,134; docs/BENCHMARKS.md). An operator's own GOGC wins.
GOGC=${GOGC:-400}
export GOGC

IPCQ="$M1_BIN/ipcq"
START_WAIT=${M1_START_WAIT:-20s}
STOP_WAIT=${M1_STOP_WAIT:-60}
# RUN_DIR (pid files), LOG_DIR and STOPPED_MARK are set by preflight from
# etc/m1.toml's [paths], where the daemons put them.

say() { printf '%s %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

preflight() {
    [ -x "$IPCQ" ] || die "$IPCQ not found: build M1 first (make build) or set M1_BIN"
    [ -f "$M1_HOME/etc/m1.toml" ] || die "no $M1_HOME/etc/m1.toml: set M1_HOME"
    # A broken etc/ must not keep m1stop from finding the pid files: the
    # shipped directories then, said so.
    if paths=$("$IPCQ" paths 2>&1); then
        RUN_DIR=$(printf '%s\n' "$paths" | sed -n 's/^run=//p')
        LOG_DIR=$(printf '%s\n' "$paths" | sed -n 's/^log=//p')
    else
        say "WARNING: etc/ unreadable, using $M1_HOME/var/run and $M1_HOME/log: $paths" >&2
        RUN_DIR="$M1_HOME/var/run"
        LOG_DIR="$M1_HOME/log"
    fi
    [ -n "$RUN_DIR" ] && [ -n "$LOG_DIR" ] || die "ipcq paths said: $paths"
    STOPPED_MARK="$RUN_DIR/m1.stopped"
    mkdir -p "$RUN_DIR" "$LOG_DIR" || die "cannot create $RUN_DIR or $LOG_DIR"
}

processes() { "$IPCQ" processes; }

# binary_of NAME prints the command line that starts process NAME.
binary_of() {
    case "$1" in
    sender.*) printf '%s --id %s' "$M1_BIN/sender" "${1#sender.}" ;;
    *) printf '%s' "$M1_BIN/$1" ;;
    esac
}

pid_of() {
    f="$RUN_DIR/$1.pid"
    [ -f "$f" ] || return 1
    p=$(head -n 1 "$f" 2>/dev/null | tr -cd '0-9')
    [ -n "$p" ] || return 1
    printf '%s' "$p"
}

# alive NAME: the pid file names a live process. A zombie (killed, not yet
# reaped by init) is not alive.
alive() {
    p=$(pid_of "$1") || return 1
    kill -0 "$p" 2>/dev/null || return 1
    state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$p/stat" 2>/dev/null)
    [ "$state" != Z ] && [ "$state" != X ]
}

# start_one NAME: start the process detached, wait for it to report running.
start_one() {
    name=$1
    if alive "$name" && "$IPCQ" running "$name" >/dev/null 2>&1; then
        say "$name already running (pid $(pid_of "$name"))"
        return 0
    fi
    # fd 9 is m1check's lock: a daemon that inherited it would hold the lock
    # for its whole life and every later m1check would skip its work.
    # shellcheck disable=SC2046
    setsid $(binary_of "$name") >>"$LOG_DIR/$name.out" 2>&1 </dev/null 9>&- &
    if "$IPCQ" running "$name" --wait "$START_WAIT" >/dev/null 2>&1; then
        say "$name running (pid $(pid_of "$name" || echo '?'))"
        return 0
    fi
    say "ERROR: $name did not report running within $START_WAIT; the end of $LOG_DIR/$name.out:" >&2
    tail -n 15 "$LOG_DIR/$name.out" >&2
    return 1
}

# stop_one NAME: TERM, then wait up to STOP_WAIT seconds for the exit.
stop_one() {
    name=$1
    if ! alive "$name"; then
        say "$name not running"
        return 0
    fi
    p=$(pid_of "$name")
    kill -TERM "$p" 2>/dev/null
    i=0
    while alive "$name"; do
        i=$((i + 1))
        if [ "$i" -gt $((STOP_WAIT * 10)) ]; then
            say "ERROR: $name (pid $p) did not stop within ${STOP_WAIT}s" >&2
            return 1
        fi
        sleep 0.1
    done
    say "$name stopped"
}
