#!/usr/bin/env bash
# One-command demo of this project's joold against the real Jool kernel module:
# installs what is missing, builds the VM and the daemon bundle, then boots
# the VM twice:
#   1. a failover (tests/e2e/scenarios/failover.sh, two of its cases): a TCP
#      connection, a UDP flow and a ping go through NAT64 router j1, which
#      dies while busy making new sessions, 0.3 s after a second TCP connection
#      opened; traffic moves to j2, then back. Printed side by side: with our
#      joold on both routers both connections survive; with none they break;
#   2. two joold (IPv6 multicast, stats port 45678) and TCP, UDP and ICMP
#      traffic through node 1 (tests/e2e/scenarios/ours_stats.sh): both
#      nodes' session tables side by side and both daemons' stats.
#
# Usage: scripts/demo.sh        (Linux, as root; about 2 minutes once installed)
# Results stay in $JOOLD_DEMO_OUT (default /var/tmp/joold-demo): failover/, sync/.
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

rm -rf "$out"
mkdir -p "$out/failover" "$out/sync"

# boot OUT SCRIPT [VAR=VALUE...]: one VM run of a scenario, its progress lines shown.
boot() {
  local dir=$1 script=$2 status
  shift 2
  set +e
  JOOLD_VM_TEE=1 bash scripts/vm/run_vm.sh "$dir" env JOOLD_E2E_OURS_FLAGS="$flags" "$@" \
    bash "$root/tests/e2e/scenarios/$script" |
    grep --line-buffered -o 'e2e \[.*'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "demo: the VM run failed (status $status); console: $dir/vm/console.log" >&2
    exit "$status"
  fi
}

echo "== booting the VM (Debian kernel with Jool under QEMU): a NAT64 router dies"
boot "$out/failover" failover.sh JOOLD_E2E_FAILOVER_CASES="ours:ours none:none"
echo
echo "== the same connection through the failover: with joold on both routers (left), without (right)"
bash scripts/deno.sh run --allow-read --no-config tests/e2e/lib/failover_timeline.ts \
  "$out/failover/failover/ours-ours" "$out/failover/failover/none-none"
echo
echo "== booting the VM again: two nodes in sync, their tables and stats"
boot "$out/sync" ours_stats.sh
out=$out/sync

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
echo "Daemon logs, configs and dumps: $out and ${out%/sync}/failover"
