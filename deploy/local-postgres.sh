#!/usr/bin/env bash
# A PostgreSQL server on loopback for Dagster's instance storage: for the tests (`make
# postgres`, .ci/run) and for trying deploy/dagster.postgres.yaml on one machine. Idempotent:
# installs Debian's postgresql when missing, creates a cluster `saypro` listening on
# 127.0.0.1:$DAGSTER_PG_PORT only, starts it, and makes the role and database of the
# DAGSTER_PG_* variables (`make postgres` sets them; DAGSTER_PG_HOST must be 127.0.0.1 here).
# Needs root or sudo.
set -euo pipefail
for variable in DAGSTER_PG_PORT DAGSTER_PG_USER DAGSTER_PG_PASSWORD DAGSTER_PG_DB; do
  [ -n "${!variable:-}" ] || { echo "$variable is not set: run \`make postgres\` or set DAGSTER_PG_*" >&2; exit 1; }
done
sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
if ! command -v pg_createcluster >/dev/null; then
  echo "Installing Debian's postgresql for Dagster's instance storage: apt-get install postgresql"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version saypro"; then
  $sudo pg_createcluster --port "$DAGSTER_PG_PORT" "$version" saypro \
    -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  # loopback only, by address: "localhost" can resolve to 127.0.0.1 twice (the second bind fails)
  echo "listen_addresses = '127.0.0.1'" | $sudo tee "/etc/postgresql/$version/saypro/conf.d/listen.conf" >/dev/null
fi
if ! pg_lsclusters -h | awk '$1 == "'"$version"'" && $2 == "saypro" {print $4}' | grep -qx online; then
  $sudo pg_ctlcluster "$version" saypro start
fi
as_postgres() { if [ -z "$sudo" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
psql_admin() { as_postgres psql --port "$DAGSTER_PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }
password=${DAGSTER_PG_PASSWORD//\'/\'\'}
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DAGSTER_PG_USER'")" ]; then
  psql_admin -c "CREATE ROLE \"$DAGSTER_PG_USER\" LOGIN CREATEDB PASSWORD '$password'"
else
  psql_admin -c "ALTER ROLE \"$DAGSTER_PG_USER\" LOGIN CREATEDB PASSWORD '$password'"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DAGSTER_PG_DB'")" ]; then
  psql_admin -c "CREATE DATABASE \"$DAGSTER_PG_DB\" OWNER \"$DAGSTER_PG_USER\""
fi
echo "PostgreSQL $version (cluster saypro) on 127.0.0.1:$DAGSTER_PG_PORT, database $DAGSTER_PG_DB, role $DAGSTER_PG_USER"
