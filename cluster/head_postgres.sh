#!/usr/bin/env bash
# PostgreSQL for the Optuna study, on the Ray head node only (run by head_setup_commands of
# cluster/gpu.yaml and cluster/gcp.yaml; idempotent: a second run only makes sure it is running).
#
# - Listens on localhost only (listen_addresses=localhost): the Tune driver, and with it Optuna's
#   sampler, runs on the head (`ray job submit` runs the entrypoint there); workers never open the DB.
#   No cloud firewall rule opens 5432 either.
# - The password is never in the repository: it is $OPTUNA_PG_PASSWORD when set, otherwise a random
#   one generated here on first run; either way it is kept in $XMODAL_STATE/optuna_pg_password (mode
#   600), where jobs read it from (see cluster/README.md). scram-sha-256 authentication.
# - Data in $XMODAL_STATE/pg, which gpu.yaml mounts from the host so it outlives the container.
#
# Storage URL for Optuna (SQLAlchemy + psycopg 3):
#   postgresql+psycopg://optuna:$OPTUNA_PG_PASSWORD@localhost:5432/optuna
set -euo pipefail

STATE="${XMODAL_STATE:-$HOME/xmodal-state}"
PGDATA="$STATE/pg"
PGPORT="${XMODAL_PG_PORT:-5432}"
PWFILE="$STATE/optuna_pg_password"

find_bin() {  # the newest installed PostgreSQL's bin dir
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [[ -n "$d" ]] && echo "$d"
}

BIN="$(find_bin || true)"
if [[ -z "$BIN" ]]; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN="$(find_bin)"
fi

mkdir -p "$STATE"
chmod 700 "$STATE"
if [[ ! -s "$PWFILE" ]]; then
    if [[ -n "${OPTUNA_PG_PASSWORD:-}" ]]; then
        (umask 077; printf '%s' "$OPTUNA_PG_PASSWORD" >"$PWFILE")
    else
        (umask 077; od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$PWFILE")
    fi
fi
chmod 600 "$PWFILE"

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    "$BIN/initdb" -D "$PGDATA" --username=optuna --pwfile="$PWFILE" --auth=scram-sha-256 >/dev/null
    # localhost only; no other host may connect (pg_hba.conf from initdb already allows only local/127.0.0.1/::1)
    {
        echo "listen_addresses = 'localhost'"
        echo "port = $PGPORT"
        echo "unix_socket_directories = '$PGDATA'"
        echo "password_encryption = 'scram-sha-256'"
    } >>"$PGDATA/postgresql.conf"
fi

if ! "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    "$BIN/pg_ctl" -D "$PGDATA" -l "$STATE/postgresql.log" -w start >/dev/null
fi

export PGPASSWORD
PGPASSWORD="$(cat "$PWFILE")"
if ! "$BIN/psql" -h localhost -p "$PGPORT" -U optuna -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='optuna'" | grep -q 1; then
    "$BIN/createdb" -h localhost -p "$PGPORT" -U optuna optuna
fi
echo "optuna postgres: localhost:$PGPORT/optuna (user optuna, password in $PWFILE)"
