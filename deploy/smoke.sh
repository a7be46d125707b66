#!/usr/bin/env bash
# Where Docker runs: build the image, start the demo county with compose, wait until the proxy answers
# https://localhost/ready with 200, print it, and take everything down again (volumes included).
# Not part of `make test` (the suite needs no Docker); run it by hand or from CI on a Docker host.
set -euo pipefail
cd "$(dirname "$0")/.."
project="wuye-smoke-$$"
compose() { docker compose -p "$project" --env-file deploy/demo.env "$@"; }
trap 'compose down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
HTTPS_PORT="${HTTPS_PORT:-8443}" HTTP_PORT="${HTTP_PORT:-8080}" compose up -d --build
for _ in $(seq 1 90); do
    if body=$(curl -fsSk "https://localhost:${HTTPS_PORT:-8443}/ready" 2>/dev/null); then
        echo "ready: $body"
        exit 0
    fi
    sleep 2
done
compose ps
compose logs --tail 50
echo "the demo county did not become ready" >&2
exit 1
