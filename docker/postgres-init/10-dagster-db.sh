#!/usr/bin/env bash
# Runs once, when the postgres volume is first initialised: the `dagster` database for
# docker/dagster.yaml. The cogo database (POSTGRES_DB) and its extensions are created by the
# image and by cogo's migrations on first connect.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-SQL
  CREATE DATABASE dagster OWNER "$POSTGRES_USER";
SQL
