#!/usr/bin/env bash
# Builds the end-to-end test VM: Debian's kernel plus a small initramfs whose
# init loads the Jool, 9p, virtio and veth/bridge modules, mounts this
# machine's root read-only over 9p, chroots into it and runs the command that
# scripts/vm/run_vm.sh left in the writable out share.
#
# Usage: scripts/vm/build_initrd.sh [CACHE_DIR]
#   CACHE_DIR defaults to $JOOLD_VM_DIR, else /var/tmp/joold-vm.
# Environment:
#   JOOLD_VM_JOOL  the Jool version the VM runs: 4.1.9 (default, Debian 12's),
#                  4.1.13 or 4.1.15 (scripts/vm/jool_version.sh prepares it)
# CACHE_DIR/vm-VERSION receives vmlinuz, initrd.gz and a stamp; rebuilt only
# when the kernel version, its Jool modules or this script change. Prints
# that folder.
set -euo pipefail

# virtio_net: the NIC of two linked VMs (scripts/vm/run_vm_pair.sh); a lone VM has none.
readonly modules=(jool 9p 9pnet_virtio virtio_pci virtio_net veth bridge)

die() {
  echo "build_initrd: $*" >&2
  exit 1
}

cache_root=${1:-${JOOLD_VM_DIR:-/var/tmp/joold-vm}}
jool=${JOOLD_VM_JOOL:-4.1.9}
jool_dir=$(bash "$(dirname "${BASH_SOURCE[0]}")/jool_version.sh" "$jool" "$cache_root") ||
  die "Jool $jool is not available for the VM"
cache=$cache_root/vm-$jool
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

kernel=$(find /lib/modules -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' 2>/dev/null |
  sort -V | tail -n 1)
[ -n "$kernel" ] || die "no *-amd64 kernel in /lib/modules: run scripts/vm/install_deps.sh"
[ -f "/boot/vmlinuz-$kernel" ] || die "kernel image missing: /boot/vmlinuz-$kernel"

# modprobe lists a module's dependencies first, and repeats shared ones.
# Jool's own two come from the chosen version's folder, in their place.
module_paths=$(for m in "${modules[@]}"; do modprobe --show-depends -S "$kernel" "$m"; done |
  awk -v jool="$jool_dir/modules" '
    $1 != "insmod" || seen[$2]++ { next }
    $2 ~ /\/jool_common\.ko/ { $2 = jool "/jool_common.ko" }
    $2 ~ /\/jool\.ko/ { $2 = jool "/jool.ko" }
    { print $2 }' | xargs -r readlink -f)
grep -q '/jool\.ko' <<<"$module_paths" ||
  die "no Jool module for $kernel: run scripts/vm/install_deps.sh"

stamp=$(
  echo "$kernel"
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
  # shellcheck disable=SC2086 # one path per word
  sha256sum $module_paths
)
if [ -f "$cache/initrd.gz" ] && [ -f "$cache/vmlinuz" ] &&
  [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$cache"
  exit 0
fi

echo "build_initrd: building the VM for $kernel in $cache" >&2
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,host,lib/modules}
cp /bin/busybox "$root/bin/busybox"
# The initramfs has no libc: a dynamically linked busybox would not start.
if ldd /bin/busybox >/dev/null 2>&1; then
  die "/bin/busybox is not statically linked: install busybox-static"
fi
for applet in sh mount insmod mkdir cat sed base64 chroot sync poweroff sleep; do
  ln -s busybox "$root/bin/$applet"
done

while read -r path; do
  name=$(basename "$path")
  case "$path" in
    *.xz) xz -dc "$path" >"$root/lib/modules/${name%.xz}" ;;
    *.zst) zstd -dcq "$path" >"$root/lib/modules/${name%.zst}" ;;
    *) cp "$path" "$root/lib/modules/$name" ;;
  esac
  name=${name%.xz}
  echo "${name%.zst}" >>"$root/modules"
done <<<"$module_paths"

cat >"$root/init" <<'INIT'
#!/bin/sh
# PID 1 of the end-to-end test VM (written by scripts/vm/build_initrd.sh).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
for m in $(cat /modules); do
  insmod "/lib/modules/$m" || echo "e2e-vm: insmod $m failed"
done
param() { sed -n "s/.*joold_e2e\.$1=\([^ ]*\).*/\1/p" /proc/cmdline | base64 -d; }
out=$(param out)
# A large msize matters: the guest reads the 100 MB Deno binary through it.
p9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$p9,ro,cache=loose" host0 /host || echo "e2e-vm: cannot mount the host root"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs -o mode=755 tmpfs /host/run
mkdir -p "/host$out"
mount -t 9p -o "$p9" out0 "/host$out" || echo "e2e-vm: cannot mount the out share"
# The checkout, again at its own path: under /tmp (a fresh tmpfs here) the
# host root share alone would hide it.
repo=$(param repo)
if [ -n "$repo" ]; then
  mkdir -p "/host$repo"
  mount -t 9p -o "$p9,ro,cache=loose" repo0 "/host$repo" || echo "e2e-vm: cannot mount the checkout"
fi
chroot /host /bin/bash "$out/vm/command.sh"
echo "$?" >"/host$out/vm/status"
sync
poweroff -f
INIT
chmod +x "$root/init"

cp "/boot/vmlinuz-$kernel" "$work/vmlinuz"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
echo "$stamp" >"$work/stamp"
mv -f "$work/vmlinuz" "$work/initrd.gz" "$cache/"
mv -f "$work/stamp" "$cache/stamp"
echo "$cache"
