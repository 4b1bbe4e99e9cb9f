#!/bin/sh
# Start or stop pcscd without systemd (for tests and CI). Idempotent.
#   scripts/pcscd.sh start|stop|status|restart
# A pcscd killed with -9 leaves /run/pcscd/pcscd.comm and pcscd.pid behind, and the next start then
# fails ("pcscd.comm already exists"): both are removed first when no live pcscd owns them.
# Never --auto-exit (it quits after 60 s idle). Log: ${PCSCD_LOG:-/tmp/pcscd.log}.
set -eu
RUN=/run/pcscd
PID="$RUN/pcscd.pid"
SOCK="$RUN/pcscd.comm"
LOG="${PCSCD_LOG:-/tmp/pcscd.log}"
PCSCD="${PCSCD:-/usr/sbin/pcscd}"

pid() {
    tr -cd '0-9' <"$PID" 2>/dev/null || true
}

# alive and not a zombie (a container's init may never reap a killed pcscd)
running() {
    [ -f "$PID" ] || return 1
    p=$(pid)
    [ -n "$p" ] && [ -r "/proc/$p/status" ] || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status"
}

start() {
    if running && [ -S "$SOCK" ]; then
        echo "pcscd running (pid $(pid))"
        return 0
    fi
    rm -f "$SOCK" "$PID"
    mkdir -p "$RUN"
    setsid "$PCSCD" --foreground ${PCSCD_ARGS:-} >"$LOG" 2>&1 </dev/null &
    i=0
    while [ $i -lt 100 ]; do
        if [ -S "$SOCK" ] && running; then
            echo "pcscd started (pid $(pid))"
            return 0
        fi
        i=$((i + 1))
        sleep 0.05
    done
    echo "pcscd did not start; see $LOG" >&2
    return 1
}

stop() {
    if running; then
        p=$(pid)
        kill "$p" 2>/dev/null || true
        i=0
        while running && [ $i -lt 60 ]; do i=$((i + 1)); sleep 0.05; done
        kill -9 "$p" 2>/dev/null || true
    fi
    rm -f "$SOCK" "$PID"
    echo "pcscd stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) if running; then echo "running (pid $(pid))"; else echo "stopped"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
