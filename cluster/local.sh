#!/usr/bin/env bash
# A local multi-node Ray cluster on one machine: one head node and N worker nodes, each a separate
# raylet with its own CPU count, joined over 127.0.0.1 with Ray's token authentication ON.
#
#   cluster/local.sh up        # head (XMODAL_HEAD_CPUS) + XMODAL_LOCAL_WORKERS workers (XMODAL_WORKER_CPUS each)
#   cluster/local.sh status    # `ray status` of this cluster
#   cluster/local.sh env       # the exports a client needs: eval "$(cluster/local.sh env)"
#   cluster/local.sh down      # stops exactly the nodes this script started (never `ray stop`)
#
# Then, from the repository root:
#   eval "$(cluster/local.sh env)"
#   python -m platform.tune --study syncgan_semi --address "$RAY_ADDRESS" --results "$XMODAL_STORAGE"
#
# Why `ray start` and not `ray up`: in Ray 2.60 `ray up` with the fake_multinode provider crashes
# (KeyError 'node'). Plain `ray start --head` + `ray start --address=...` works on one host as long as
# every node gets its own dashboard-agent and metrics ports (the defaults collide on one host).
#
# Each node runs `ray start --block` in the background; its PID is kept in $XMODAL_LOCAL_STATE, and
# `down` sends SIGTERM to those PIDs only (a blocking `ray start` takes its node's processes with it),
# so another Ray on the same machine (someone's `ray.init()`) is left alone. `ray stop` would kill it.
#
# Authentication: Ray 2.60 enables token auth. This cluster gets its own token file
# ($XMODAL_LOCAL_STATE/auth_token, mode 600), used through RAY_AUTH_MODE=token and
# RAY_AUTH_TOKEN_PATH by every node and every client (`env` prints those two exports).
#
# Storage: all nodes of this cluster are on one machine, so a local directory is shared storage;
# Tune writes trials of every node under $XMODAL_STORAGE (default: <repo>/results).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${XMODAL_LOCAL_STATE:-/tmp/xmodal-local}"
PORT="${XMODAL_LOCAL_PORT:-6390}"
WORKERS="${XMODAL_LOCAL_WORKERS:-1}"
HEAD_CPUS="${XMODAL_HEAD_CPUS:-1}"
WORKER_CPUS="${XMODAL_WORKER_CPUS:-1}"
DASHBOARD_PORT="${XMODAL_LOCAL_DASHBOARD_PORT:-8266}"
STORAGE="${XMODAL_STORAGE:-$REPO/results}"
if [[ -n "${RAY:-}" ]]; then :; elif [[ -x "$REPO/.venv/bin/ray" ]]; then RAY="$REPO/.venv/bin/ray"; else RAY=ray; fi
PYTHON="$(dirname "$(command -v "$RAY")")/python"
# jobs (`ray job submit`) inherit the nodes' PATH: put this Ray's python first
export PATH="$(dirname "$(command -v "$RAY")"):$PATH"
[[ -x "$PYTHON" ]] || PYTHON=python3
ADDRESS="127.0.0.1:$PORT"

export RAY_AUTH_MODE=token
# `down` ends every node of this cluster at once: Ray 2.60's SIGTERM drain (up to 30 s, for Serve replicas to
# move to another node before this one goes) has nowhere to move them, and it held `down` for 30 s after a study
export RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="${RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S:-0}"
export RAY_AUTH_TOKEN_PATH="$STATE/auth_token"
unset RAY_AUTH_TOKEN RAY_ADDRESS

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2; shift 2
    local t0=$SECONDS
    until "$@" >/dev/null 2>&1; do
        if (( SECONDS - t0 > limit )); then echo "local.sh: timed out after ${limit}s waiting for $what" >&2; return 1; fi
        sleep 1
    done
}

nodes_alive() {  # nodes_alive N: at least N alive nodes in this cluster
    "$PYTHON" - "$ADDRESS" "$1" <<'EOF'
import sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
n = sum(1 for node in ray.nodes() if node["Alive"])
ray.shutdown()
sys.exit(0 if n >= int(sys.argv[2]) else 1)
EOF
}

cmd_up() {
    if alive "$STATE/head.pid"; then echo "local.sh: already up (head pid $(cat "$STATE/head.pid")); run down first" >&2; return 1; fi
    mkdir -p "$STATE/logs" "$STORAGE"
    chmod 700 "$STATE"
    if [[ ! -s "$RAY_AUTH_TOKEN_PATH" ]]; then
        (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_hex(32), end="")' >"$RAY_AUTH_TOKEN_PATH")
    fi
    echo "$ADDRESS" >"$STATE/address"
    echo "head: $ADDRESS ($HEAD_CPUS CPU), dashboard http://127.0.0.1:$DASHBOARD_PORT"
    # the head keeps temp files (sessions, logs) under $STATE/ray, away from /tmp/ray
    nohup "$RAY" start --head --block --node-ip-address=127.0.0.1 --port="$PORT" --num-cpus="$HEAD_CPUS" --num-gpus=0 \
        --include-dashboard=true --dashboard-host=127.0.0.1 --dashboard-port="$DASHBOARD_PORT" \
        --dashboard-agent-listen-port="$(free_port)" --metrics-export-port="$(free_port)" \
        --temp-dir="$STATE/ray" --disable-usage-stats \
        >"$STATE/logs/head.out" 2>&1 &
    echo $! >"$STATE/head.pid"
    wait_for 90 "the head node (log: $STATE/logs/head.out)" nodes_alive 1 || { cat "$STATE/logs/head.out" >&2; return 1; }
    for i in $(seq 1 "$WORKERS"); do
        echo "worker $i: $WORKER_CPUS CPU"
        nohup "$RAY" start --address="$ADDRESS" --block --node-ip-address=127.0.0.1 --num-cpus="$WORKER_CPUS" --num-gpus=0 \
            --dashboard-agent-listen-port="$(free_port)" --metrics-export-port="$(free_port)" \
            --temp-dir="$STATE/ray" --disable-usage-stats \
            >"$STATE/logs/worker$i.out" 2>&1 &
        echo $! >"$STATE/worker$i.pid"
    done
    wait_for 90 "$WORKERS worker node(s) (logs: $STATE/logs/)" nodes_alive $((WORKERS + 1)) || { cat "$STATE"/logs/worker*.out >&2; return 1; }
    echo "up: $((WORKERS + 1)) nodes. Clients:"
    cmd_env
}

cmd_env() {
    echo "export RAY_ADDRESS=$ADDRESS"
    echo "export RAY_AUTH_MODE=token"
    echo "export RAY_AUTH_TOKEN_PATH=$RAY_AUTH_TOKEN_PATH"
    echo "export XMODAL_STORAGE=$STORAGE"
}

cmd_status() {
    if ! alive "$STATE/head.pid"; then echo "down (no head node started from $STATE)"; return 3; fi
    "$RAY" status --address="$ADDRESS"
}

cmd_down() {
    local pidfile pid pids=() alive_pids
    # every node at once (each `ray start --block` takes seconds to end its processes): TERM, up to 30 s, KILL
    for pidfile in "$STATE"/worker*.pid "$STATE/head.pid"; do
        [[ -f "$pidfile" ]] || continue
        pid="$(cat "$pidfile")"
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" && pids+=("$pid")
    done
    for _ in $(seq 1 30); do
        alive_pids=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive_pids+=("$pid"); done
        [[ ${#alive_pids[@]} -eq 0 ]] && break
        pids=("${alive_pids[@]}")
        sleep 1
    done
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; done
    rm -f "$STATE"/worker*.pid "$STATE/head.pid"
    # whatever of this cluster outlived its `ray start` (matched by this cluster's own temp dir)
    local left
    left="$(pgrep -f -- "$STATE/ray" || true)"
    if [[ -n "$left" ]]; then
        sleep 2
        left="$(pgrep -f -- "$STATE/ray" || true)"
        [[ -n "$left" ]] && kill -KILL $left 2>/dev/null || true
    fi
    echo "down"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
