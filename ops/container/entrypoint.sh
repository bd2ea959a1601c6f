#!/bin/sh
# The image's entry point: `cronkeeper "$@"` (default `api`), with DATABASE_URL required.
#
# Outside a container cronkeeper starts an embedded PostgreSQL when DATABASE_URL
# is unset. In a container that database would live and die with the container,
# and each container would get its own: refuse, and say what to set instead.
set -eu

case "${1:-}" in
    -h | --help) exec cronkeeper "$@" ;;
esac

if [ -z "${DATABASE_URL:-}" ]; then
    cat >&2 <<'MESSAGE'
cronkeeper: error: DATABASE_URL is not set.
This image never starts an embedded PostgreSQL: its data would be lost with the
container and every container would have a database of its own. Point
DATABASE_URL at your PostgreSQL, for example
    DATABASE_URL=postgresql://cronkeeper:PASSWORD@db.example.internal:5432/cronkeeper
(see docs/containers.md).
MESSAGE
    exit 78 # EX_CONFIG
fi

exec cronkeeper "$@"
