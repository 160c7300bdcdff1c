#!/usr/bin/env bash
# Boots two end-to-end test VMs at once, each with its own Jool version, linked
# by one Ethernet link (QEMU's -netdev dgram: each guest's virtio NIC, eth0,
# sends its frames to the other over UDP on this machine's loopback), and runs
# the same command in both: in the first with JOOLD_E2E_PAIR_NODE=1, in the
# second with 2 (and JOOLD_E2E_PAIR_PEER the other's number). Each VM's
# results go to OUT_DIR/a and OUT_DIR/b (see scripts/vm/run_vm.sh).
#
# Usage: scripts/vm/run_vm_pair.sh OUT_DIR JOOL_A JOOL_B COMMAND [ARG...]
# Environment: as run_vm.sh (JOOLD_VM_TIMEOUT, JOOLD_VM_DIR, ...); each VM
# gets JOOLD_VM_MEMORY MiB (default 1024) and JOOLD_VM_CPUS CPUs (default 1:
# two TCG guests share this machine's cores).
# The run lock (one VM at a time) is taken once for both VMs.
# Exit status: the first VM's if it failed, else the second's.
set -euo pipefail

die() {
  echo "run_vm_pair: $*" >&2
  exit 125
}

[ "$#" -ge 4 ] || die "usage: run_vm_pair.sh OUT_DIR JOOL_A JOOL_B COMMAND [ARG...]"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(realpath "$1")
jool_a=$2
jool_b=$3
shift 3

# Build both VMs first (cached), outside the lock, as run_vm.sh would.
for jool in "$jool_a" "$jool_b"; do
  JOOLD_VM_JOOL=$jool bash "$here/build_initrd.sh" "${JOOLD_VM_DIR:-/var/tmp/joold-vm}" >/dev/null
done

# Two UDP ports on the loopback, one per end of the link.
free_udp_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_a=$(free_udp_port)
port_b=$(free_udp_port)
[ "$port_a" != "$port_b" ] || port_b=$(free_udp_port)
link() {
  printf '%s' "-netdev dgram,id=sync,local.type=inet,local.host=127.0.0.1,local.port=$1"
  printf '%s' ",remote.type=inet,remote.host=127.0.0.1,remote.port=$2"
  printf '%s' " -device virtio-net-pci,netdev=sync,mac=52:54:00:00:00:0$3"
}

exec 8>"${JOOLD_VM_RUN_LOCK:-/var/tmp/joold-vm-run.lock}"
flock 8
mkdir -p "$out/a" "$out/b"
export JOOLD_VM_MEMORY=${JOOLD_VM_MEMORY:-1024} JOOLD_VM_CPUS=${JOOLD_VM_CPUS:-1}
set +e
JOOLD_VM_JOOL=$jool_a JOOLD_VM_NIC=$(link "$port_a" "$port_b" 1) \
  JOOLD_VM_RUN_LOCK=$out/a/.run.lock \
  bash "$here/run_vm.sh" "$out/a" env JOOLD_E2E_PAIR_NODE=1 JOOLD_E2E_PAIR_PEER=2 "$@" &
pid_a=$!
JOOLD_VM_JOOL=$jool_b JOOLD_VM_NIC=$(link "$port_b" "$port_a" 2) \
  JOOLD_VM_RUN_LOCK=$out/b/.run.lock \
  bash "$here/run_vm.sh" "$out/b" env JOOLD_E2E_PAIR_NODE=2 JOOLD_E2E_PAIR_PEER=1 "$@" &
pid_b=$!
wait "$pid_a"
rc_a=$?
wait "$pid_b"
rc_b=$?
set -e
[ "$rc_a" -ne 0 ] && exit "$rc_a"
exit "$rc_b"
