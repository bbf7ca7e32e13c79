#!/usr/bin/env sh
# `npm run dev`: the whole system in one process on this machine (SERVICE_ROLE=all), with defaults
# for the local PostgreSQL and Redis, a development API key, and a local mail catcher when no
# SMTP_URL is given. Every default can be overridden from the environment.
set -eu
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/notifications}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export BOOTSTRAP_API_KEY="${BOOTSTRAP_API_KEY:-dev_key_0123456789abcdefghijklmnopqrstuv}"
export EMAIL_FROM="${EMAIL_FROM:-Notifications <noreply@localhost>}"
export PUSH_ALLOW_PRIVATE_ENDPOINTS="${PUSH_ALLOW_PRIVATE_ENDPOINTS:-false}"
export SERVICE_ROLE=all

# Create the database on first run (the local PostgreSQL trusts loopback).
db=$(printf '%s' "$DATABASE_URL" | sed -E 's|.*/([^/?]+)(\?.*)?$|\1|')
admin=$(printf '%s' "$DATABASE_URL" | sed -E 's|/[^/?]+(\?.*)?$|/postgres|')
if command -v psql >/dev/null 2>&1 && [ -z "$(psql "$admin" -tAc "select 1 from pg_database where datname = '$db'" 2>/dev/null)" ]; then
  psql "$admin" -qc "create database \"$db\"" && echo "dev: created database $db"
fi
node dist/db/migrate.js

if [ -z "${SMTP_URL:-}" ]; then
  node scripts/mail-catcher.mjs 1025 .dev/mail &
  catcher=$!
  trap 'kill "$catcher" 2>/dev/null || true' EXIT INT TERM
  export SMTP_URL=smtp://127.0.0.1:1025
fi
echo "dev: API on http://${HOST:-127.0.0.1}:${PORT:-3000}  key: $BOOTSTRAP_API_KEY"
node dist/main.js
