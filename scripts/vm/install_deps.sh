#!/usr/bin/env bash
# Installs what the end-to-end tests need on a Debian machine: a Debian kernel
# with Jool's kernel modules (DKMS), Jool's userspace tools (the reference
# joold), QEMU and the tools the VM image is built with. Idempotent: does
# nothing, not even `apt-get update`, when everything is present already.
#
# Usage: scripts/vm/install_deps.sh
set -euo pipefail

# systemd: systemd-analyze, which checks the units; lintian: checks the .deb;
# keepalived: the failover scenarios.
readonly packages=(
  linux-image-amd64 linux-headers-amd64 jool-dkms jool-tools qemu-system-x86
  busybox-static cpio zstd netcat-openbsd curl systemd lintian keepalived
)
readonly apt_options=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

die() {
  echo "install_deps: $*" >&2
  exit 1
}

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # One update per run is enough; the second install (kernel headers) reuses it.
  if [ -z "${apt_updated:-}" ]; then
    apt-get "${apt_options[@]}" update -qq
    apt_updated=1
  fi
  apt-get "${apt_options[@]}" install -y -qq --no-install-recommends "$@"
}

# The newest Debian kernel that has modules installed; Debian moves the version
# on with every point release, so it is discovered, never written down.
newest_kernel() {
  find /lib/modules -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' 2>/dev/null |
    sort -V | tail -n 1
}

has_jool_module() {
  [ -n "$(find "/lib/modules/$1" -name 'jool.ko*' -print -quit 2>/dev/null)" ]
}

[ "$(uname -s)" = Linux ] || die "the end-to-end tests need Linux"
[ "$(id -u)" -eq 0 ] || die "must run as root: it installs packages and boots a VM"

missing=()
for package in "${packages[@]}"; do
  is_installed "$package" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages and no apt-get to install them: ${missing[*]}"
  echo "install_deps: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

kernel=$(newest_kernel)
[ -n "$kernel" ] || die "no *-amd64 kernel in /lib/modules after installing linux-image-amd64"
[ -f "/boot/vmlinuz-$kernel" ] || die "kernel image missing: /boot/vmlinuz-$kernel"

if ! has_jool_module "$kernel"; then
  # DKMS builds only for kernels whose headers are present; a kernel upgraded
  # without its headers would otherwise stay without Jool.
  if [ ! -e "/lib/modules/$kernel/build" ]; then
    apt_install "linux-headers-$kernel"
  fi
  echo "install_deps: building the Jool modules for $kernel" >&2
  dkms autoinstall -k "$kernel" >&2
  has_jool_module "$kernel" || die "DKMS did not produce jool.ko for $kernel"
fi
