#!/usr/bin/env bash
# The project's test command (README "Test"; .ci/run runs exactly this).
#   1. installs the pinned Deno if missing (scripts/deno.sh) and, when root
#      on Linux, the Debian packages the VM tests need (scripts/vm/install_deps.sh);
#   2. deno fmt --check, deno lint, deno check;
#   3. every test: unit (src/, ffi/, bench/), host integration (tests/integration, root:
#      real netlink and network namespaces), end-to-end in a VM with the real
#      Jool module (tests/e2e). Tests that cannot run here say why in one line.
# Extra arguments go to `deno test` (e.g. --filter ours-ipv6).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
deno="$root/scripts/deno.sh"
"$deno" --version | head -1 || exit 1

if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] && [ -z "${JOOLD_SKIP_E2E:-}" ]; then
  if ! bash scripts/vm/install_deps.sh; then
    echo "warning: could not install the VM test dependencies; the e2e tests will say why they skip" >&2
  fi
fi

status=0
echo "== deno fmt --check"; "$deno" fmt --check || status=1
echo "== deno lint"; "$deno" lint || status=1
echo "== deno check"; "$deno" check main.ts src/ ffi/ tests/ scripts/ bench/ || status=1

echo "== deno test"
log=$(mktemp)
"$deno" test --allow-all src/ ffi/ bench/ tests/ "$@" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
[ "$test_status" = 0 ] || status=1
# One plain closing line for CI, from deno's own summary.
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
rm -f "$log"
passed=$(printf '%s' "$summary" | sed -nE 's/.*\| ([0-9]+) passed.*/\1/p')
failed=$(printf '%s' "$summary" | sed -nE 's/.*\| ([0-9]+) failed.*/\1/p')
ignored=$(printf '%s' "$summary" | sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p')
[ "$status" = 0 ] || failed=$(( ${failed:-0} > 0 ? ${failed:-0} : 1 ))
echo "${passed:-0} passed, ${failed:-0} failed, ${ignored:-0} skipped"
exit "$status"
