#!/usr/bin/env bash
# Runs the project's pinned Deno (scripts/toolchain/package.json), installing
# it from the npm registry first if this machine does not have it yet.
# Usage: scripts/deno.sh ARGS...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
toolchain="$root/scripts/toolchain"
deno="$toolchain/node_modules/.bin/deno"
if [ ! -x "$deno" ] || ! "$deno" --version >/dev/null 2>&1; then
  (cd "$toolchain" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# Editors, hooks and `deno task` look for node_modules/.bin/deno.
if [ ! -e "$root/node_modules/.bin/deno" ]; then
  mkdir -p "$root/node_modules/.bin"
  ln -sf "$deno" "$root/node_modules/.bin/deno"
fi
exec "$deno" "$@"
