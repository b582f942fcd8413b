#!/usr/bin/env bash
# Restore drill (docs/deploy.md, "Backup and restore"): dump the portal's PostgreSQL database,
# restore the dump into a fresh database, and check the audit chain there with the same
# PORTAL_AUDIT_KEY. tests/deploy/test_restore_drill.py runs this very script.
#
# usage: scripts/restore-drill.sh SOURCE_URL TARGET_URL [HEAD]
#   SOURCE_URL  postgresql://user@host:5432/portal           (the live database, or yesterday's)
#   TARGET_URL  postgresql://user@host:5432/portal_restore   (must not exist yet: it is created)
#   HEAD        SEQ:HASH recorded from an earlier `portal verify-audit` (optional): must still be there
# Environment: PORTAL_AUDIT_KEY (every key still needed to verify), PGPASSWORD if the server asks.
# Exit status: 0 when the restored chain verifies; the dump is left in $DUMP (default: a temp file).
set -euo pipefail
cd "$(dirname "$0")/.."

source_url=$1
target_url=$2
head=${3:-}
dump=${DUMP:-$(mktemp --suffix=.portal.dump)}
target_db=${target_url##*/}
admin_url=${target_url%/*}/postgres

echo "== dump $source_url → $dump"
pg_dump --format=custom --no-owner --no-privileges --file="$dump" "$source_url"

echo "== restore into $target_url"
psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$target_db\""
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$target_url" "$dump"

echo "== verify the audit chain of the restored database"
python=${PYTHON:-.venv/bin/python}
PORTAL_DATABASE_URL=$target_url "$python" -m flask --app wsgi portal verify-audit --full ${head:+--head "$head"}
