#!/usr/bin/env bash
# The whole suite, on SQLite + the in-process cache, and (when TEST_DATABASE_URL / TEST_REDIS_URL are
# set) again against PostgreSQL + Redis in a second pytest process at the same time: Tortoise cannot
# switch databases inside one process. Each process spreads its tests over pytest-xdist workers, each
# worker with its own database (tests/conftest.py). Exits non-zero if either run fails.
set -u
BIN=${BIN:-.venv/bin}
WORKERS=${PYTEST_WORKERS:-2}
mkdir -p var
args=(-q -n "$WORKERS" --dist loadfile -p no:cacheprovider)

if [ -z "${TEST_DATABASE_URL:-}" ] && [ -z "${TEST_REDIS_URL:-}" ]; then
    exec "$BIN/python" -m pytest "${args[@]}" "$@"
fi

log=var/pytest-sqlite.log
env -u TEST_DATABASE_URL -u TEST_REDIS_URL "$BIN/python" -m pytest "${args[@]}" "$@" >"$log" 2>&1 &
sqlite_pid=$!
echo "== against $TEST_DATABASE_URL / $TEST_REDIS_URL (SQLite run beside it, log in $log) =="
"$BIN/python" -m pytest "${args[@]}" "$@"
services=$?
wait "$sqlite_pid"
sqlite=$?
echo "== SQLite + in-process cache =="
cat "$log"
echo "== exit: services $services, sqlite $sqlite =="
[ "$services" -eq 0 ] && [ "$sqlite" -eq 0 ]
