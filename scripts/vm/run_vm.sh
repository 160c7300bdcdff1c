#!/usr/bin/env bash
# Boots the end-to-end test VM (Debian kernel + real Jool modules, under QEMU
# TCG) and runs one command in it, as root, chrooted into this machine's root
# file system (shared read-only; the guest's /tmp and /run are fresh tmpfs).
# OUT_DIR is shared writable at the same path, so the command can leave its
# results there; anything else under this machine's /tmp is not visible.
#
# Usage: scripts/vm/run_vm.sh OUT_DIR COMMAND [ARG...]
# Environment:
#   JOOLD_VM_JOOL     the Jool version in the VM: 4.1.9 (default), 4.1.13 or
#                     4.1.15; its jool and joold come first on the guest's PATH
#   JOOLD_VM_DIR      VM cache (default /var/tmp/joold-vm; built on demand)
#   JOOLD_VM_TIMEOUT  seconds before the VM is killed (default 300)
#   JOOLD_VM_MEMORY   guest memory in MiB (default 2048)
#   JOOLD_VM_CPUS     guest CPUs (default: this machine's, at most 4)
#   JOOLD_VM_LOG      guest console log (default OUT_DIR/vm/console.log)
#   JOOLD_VM_TEE=1    also copy the guest console to stdout
#   JOOLD_VM_NIC      QEMU options for the guest's network (word-split; default
#                     "-nic none"); scripts/vm/run_vm_pair.sh links two guests
#                     with it (the guest's virtio NIC is eth0)
#   JOOLD_VM_RUN_LOCK the lock that lets one VM run at a time (default
#                     /var/tmp/joold-vm-run.lock; run_vm_pair.sh takes it once
#                     for both of its VMs and gives each a lock of its own)
# Exit status: the guest command's; 124 if the VM timed out; 125 if the VM
# ended without the command reporting a status.
set -euo pipefail

die() {
  echo "run_vm: $*" >&2
  exit 125
}

[ "$#" -ge 2 ] || die "usage: run_vm.sh OUT_DIR COMMAND [ARG...]"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1/vm"
out=$(realpath "$1")
shift

# The checkout (scripts/vm/..), shared on its own so that it is visible in
# the guest even where the host root share is shadowed (a clone under /tmp).
repo=$(cd "$here/../.." && pwd)
cache=${JOOLD_VM_DIR:-/var/tmp/joold-vm}
jool=${JOOLD_VM_JOOL:-4.1.9}
vm_dir=$(JOOLD_VM_JOOL=$jool bash "$here/build_initrd.sh" "$cache")
jool_dir=$(bash "$here/jool_version.sh" "$jool" "$cache")
timeout_s=${JOOLD_VM_TIMEOUT:-300}
cpus=${JOOLD_VM_CPUS:-$(($(nproc) > 4 ? 4 : $(nproc)))}
log=${JOOLD_VM_LOG:-$out/vm/console.log}

# The command travels as a script in the out share: the kernel command line is
# too short (2 KiB) for anything but the share's path.
{
  echo '#!/bin/bash'
  printf 'export PATH=%q HOME=/tmp TERM=dumb LANG=C.UTF-8 JOOLD_E2E_OUT=%q JOOLD_VM_JOOL=%q\n' \
    "$jool_dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$out" "$jool"
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  echo
} >"$out/vm/command.sh"
rm -f "$out/vm/status"

qemu=(
  qemu-system-x86_64
  # KVM does not work on the CI machines (nested virtualisation): TCG it is.
  -accel tcg,thread=multi -cpu max -smp "$cpus" -m "${JOOLD_VM_MEMORY:-2048}"
  -nographic -no-reboot
  -kernel "$vm_dir/vmlinuz" -initrd "$vm_dir/initrd.gz"
  -append "console=ttyS0 quiet panic=-1 joold_e2e.out=$(printf '%s' "$out" | base64 -w0) joold_e2e.repo=$(printf '%s' "$repo" | base64 -w0)"
  -virtfs local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=$out,mount_tag=out0,security_model=none"
  -virtfs "local,path=$repo,mount_tag=repo0,security_model=none,readonly=on,multidevs=remap"
)
# shellcheck disable=SC2206 # QEMU options, one per word
qemu+=(${JOOLD_VM_NIC:--nic none})
# One VM at a time: two TCG guests on a 2-core machine starve each other and
# make timing-sensitive scenarios flaky.
exec 8>"${JOOLD_VM_RUN_LOCK:-/var/tmp/joold-vm-run.lock}"
flock 8
set +e
if [ "${JOOLD_VM_TEE:-0}" = 1 ]; then
  timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
else
  timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1
  rc=$?
fi
set -e

if [ -s "$out/vm/status" ]; then
  exit "$(cat "$out/vm/status")"
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "run_vm: the VM timed out after ${timeout_s}s; console: $log" >&2
  exit 124
fi
die "the VM ended (QEMU status $rc) without a status from the command; console: $log"
