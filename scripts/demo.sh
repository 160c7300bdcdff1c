#!/usr/bin/env bash
# One-command demo of this project's joold against the real Jool kernel module:
# installs what is missing, builds the VM and the daemon bundle, boots the VM,
# starts two joold (IPv6 multicast, stats port 45678), makes TCP, UDP and ICMP
# traffic through node 1 (the e2e scenario tests/e2e/scenarios/ours_stats.sh),
# then prints both nodes' session tables side by side and both daemons' stats.
#
# Usage: scripts/demo.sh        (Linux, as root; about 30 s once installed)
# Results stay in $JOOLD_DEMO_OUT (default /var/tmp/joold-demo).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${JOOLD_DEMO_OUT:-/var/tmp/joold-demo}
cd "$root"

[ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ] || {
  echo "demo: needs Linux and root (it boots a VM and may install packages)" >&2
  exit 1
}

echo "== dependencies, VM and bundle"
bash scripts/vm/install_deps.sh >/dev/null
bash scripts/vm/build_initrd.sh >/dev/null
if ! log=$(bash scripts/deno.sh bundle --platform=deno -o dist/joold.js main.ts 2>&1); then
  echo "$log" >&2
  exit 1
fi
# The daemons run with the executable's own permissions and V8 flags.
flags=$(bash scripts/deno.sh run --no-config scripts/runtime_flags.ts)

echo "== booting the VM (Debian kernel with Jool under QEMU)"
rm -rf "$out"
mkdir -p "$out"
set +e
JOOLD_VM_TEE=1 bash scripts/vm/run_vm.sh "$out" env JOOLD_E2E_OURS_FLAGS="$flags" \
  bash "$root/tests/e2e/scenarios/ours_stats.sh" |
  grep --line-buffered -o 'e2e \[.*'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "demo: the VM run failed (status $status); console: $out/vm/console.log" >&2
  exit "$status"
fi

# table NODE: the node's sessions, one line each.
table() {
  local p
  echo "$1"
  for p in tcp udp icmp; do
    tail -n +2 "$out/sessions/$1.$p.csv" |
      awk -F, '{ printf "%-4s %s#%s > %s#%s > %s#%s%s\n", $1, $2, $3, $6, $7, $8, $9, ($11 == "" ? "" : " " $11) }'
  done
}

# side_by_side LEFT RIGHT: two files as two columns.
side_by_side() {
  awk 'NR == FNR { left[FNR] = $0; if (length($0) > width) width = length($0); rows = FNR; next }
    { right[FNR] = $0; if (FNR > rows) rows = FNR }
    END { for (i = 1; i <= rows; i++) printf("%-" width "s    %s\n", left[i], right[i]) }' "$1" "$2"
}

echo
echo "== sessions: traffic went through j1 only; j2 learnt them from j1's joold"
side_by_side <(table j1) <(table j2)
echo
echo "== stats answers (echo \"\" | nc -u -w1 ADDRESS 45678, over IPv4 and IPv6)"
for family in ipv4 ipv6; do
  side_by_side \
    <(echo "j1 over $family"; cat "$out/stats/j1.$family.txt") \
    <(echo "j2 over $family"; cat "$out/stats/j2.$family.txt")
done
echo
echo "Daemon logs, configs and dumps: $out"
