#!/usr/bin/env bash
# Runs the project's pinned Deno (package.json), installing it from the npm
# registry first if this machine does not have it yet. Usage: scripts/deno.sh ARGS...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deno="$root/node_modules/.bin/deno"
if [ ! -x "$deno" ] || ! "$deno" --version >/dev/null 2>&1; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec "$deno" "$@"
