#!/usr/bin/env bash
# Prepares one Jool version for the end-to-end test VM and prints the folder
# that holds it:
#
#   FOLDER/modules/   jool_common.ko and jool.ko, built for the VM's kernel
#   FOLDER/bin/       jool and joold (the reference C daemon) of that version
#   FOLDER/version    the version the module reports, e.g. 4.1.15.0
#
# 4.1.9 is Debian 12's: the packages scripts/vm/install_deps.sh installs
# (DKMS builds the module), so FOLDER only points at them. 4.1.13 (Debian 13,
# trixie) and 4.1.15 (Debian unstable, sid) come from Debian's registry with a
# private apt configuration (the system's sources are left alone); the module
# is built from jool-dkms' source with the Debian 12 kernel headers (~40 s),
# and jool-tools' binaries run on Debian 12's libnl (they print "no version
# information available" on stderr: harmless). Cached: rebuilt only when the
# kernel, the packages or this script change.
#
# Usage: scripts/vm/jool_version.sh VERSION [CACHE_DIR]
#   VERSION    4.1.9, 4.1.13 or 4.1.15
#   CACHE_DIR  defaults to $JOOLD_VM_DIR, else /var/tmp/joold-vm; the guest
#              sees it (it must not be under /tmp).
set -euo pipefail

die() {
  echo "jool_version: $*" >&2
  exit 1
}

# unpack_module FILE DEST: a module as DKMS left it (plain, .xz or .zst) as a plain .ko.
unpack_module() {
  case "$1" in
    *.xz) xz -dc "$1" >"$2" ;;
    *.zst) zstd -dcq "$1" >"$2" ;;
    *) cp "$1" "$2" ;;
  esac
}

[ "$#" -ge 1 ] || die "usage: jool_version.sh VERSION [CACHE_DIR]"
version=$1
cache=${2:-${JOOLD_VM_DIR:-/var/tmp/joold-vm}}
case "$version" in
  4.1.9) suite=system ;;
  4.1.13) suite=trixie ;;
  4.1.15) suite=sid ;;
  *) die "unknown Jool version '$version' (known: 4.1.9, 4.1.13, 4.1.15)" ;;
esac

kernel=$(find /lib/modules -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' 2>/dev/null |
  sort -V | tail -n 1)
[ -n "$kernel" ] || die "no *-amd64 kernel in /lib/modules: run scripts/vm/install_deps.sh"

folder=$cache/jool-$version
mkdir -p "$folder"
exec 9>"$folder/.lock"
flock 9

if [ "$suite" = system ]; then
  module=$(find "/lib/modules/$kernel" -name 'jool.ko*' -print -quit)
  common=$(find "/lib/modules/$kernel" -name 'jool_common.ko*' -print -quit)
  [ -n "$module" ] && [ -n "$common" ] ||
    die "no Jool module for $kernel: run scripts/vm/install_deps.sh"
  installed=$(dpkg-query -W -f='${Version}' jool-dkms 2>/dev/null) || true
  [[ $installed == "$version"-* ]] ||
    die "Debian 12's jool-dkms is $installed, not $version: run scripts/vm/install_deps.sh"
  rm -rf "$folder/modules" "$folder/bin"
  mkdir -p "$folder/modules" "$folder/bin"
  unpack_module "$common" "$folder/modules/jool_common.ko"
  unpack_module "$module" "$folder/modules/jool.ko"
  ln -s /usr/bin/jool "$folder/bin/jool"
  ln -s /usr/bin/joold "$folder/bin/joold"
  echo "$version.0" >"$folder/version"
  echo "$folder"
  exit 0
fi

# A private apt configuration for the suite, from the system's own mirror.
mirror=$(sed -n 's/^URIs: *\(.*debian\/*\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
  head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
apt_dir=$cache/apt-$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
cat >"$apt_dir/suite.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/suite.sources" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o Acquire::Retries=3 -o APT::Sandbox::User=root
)

debs=$(find "$apt_dir/debs" -name 'jool-*.deb' | sort)
if [ "$(wc -l <<<"$debs")" -lt 2 ] || [ -z "$debs" ]; then
  echo "jool_version: downloading jool-dkms and jool-tools from Debian $suite" >&2
  apt-get "${apt_options[@]}" update -qq >&2 || die "apt-get update failed for $suite"
  (cd "$apt_dir/debs" && apt-get "${apt_options[@]}" download jool-dkms jool-tools >&2) ||
    die "cannot download jool-dkms and jool-tools from Debian $suite"
  debs=$(find "$apt_dir/debs" -name 'jool-*.deb' | sort)
fi
for deb in $debs; do
  got=$(dpkg-deb -f "$deb" Version)
  [[ $got == "$version"-* ]] ||
    die "Debian $suite now has $(basename "$deb") ($got), not Jool $version: update this script"
done

stamp=$(
  echo "$kernel"
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
  # shellcheck disable=SC2086 # one path per word
  sha256sum $debs | cut -d' ' -f1
)
if [ -f "$folder/modules/jool.ko" ] && [ -x "$folder/bin/joold" ] &&
  [ "$(cat "$folder/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$folder"
  exit 0
fi

[ -e "/lib/modules/$kernel/build" ] ||
  die "no headers for $kernel (/lib/modules/$kernel/build): run scripts/vm/install_deps.sh"
echo "jool_version: building Jool $version for $kernel" >&2
work=$(mktemp -d "$cache/.jool-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
for deb in $debs; do dpkg-deb -x "$deb" "$work/root"; done
source=$work/root/usr/src/jool-$version
[ -d "$source/src/mod" ] || die "jool-dkms has no source at usr/src/jool-$version"
# jool.ko links against jool_common.ko's symbols: build common first and
# hand its Module.symvers to the second build.
make -s -C "/lib/modules/$kernel/build" "M=$source/src/mod/common" -j"$(nproc)" modules >&2 ||
  die "building jool_common.ko $version failed"
make -s -C "/lib/modules/$kernel/build" "M=$source/src/mod/nat64" -j"$(nproc)" \
  "KBUILD_EXTRA_SYMBOLS=$source/src/mod/common/Module.symvers" modules >&2 ||
  die "building jool.ko $version failed"
rm -rf "$folder/modules" "$folder/bin"
mkdir -p "$folder/modules" "$folder/bin"
cp "$source/src/mod/common/jool_common.ko" "$source/src/mod/nat64/jool.ko" "$folder/modules/"
# Debug information makes jool_common.ko 20 MiB; the initramfs needs none.
strip --strip-debug "$folder"/modules/*.ko
cp "$work/root/usr/bin/jool" "$work/root/usr/bin/joold" "$folder/bin/"
echo "$version.0" >"$folder/version"
echo "$stamp" >"$folder/stamp"
echo "$folder"
