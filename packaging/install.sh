#!/bin/sh
# Installs the joold of this release folder on this machine; run it as root
# (README "Install"). It puts:
#   /usr/local/bin/joold                         the executable
#   /usr/local/share/man/man8/joold.8            joold(8)
#   /usr/local/share/doc/joold/                  README.md, LICENSE, docs/, examples/
#   /etc/systemd/system/joold.service, joold@.service
#   /etc/joold/netsocket.json, modsocket.json    from the examples, unless already there
# Running it again upgrades the executable, page, docs and units and keeps
# the configuration. Before installing anything it runs the executable, so
# a machine it cannot run on (another architecture, or a C library other
# than glibc, e.g. musl on Alpine or OpenWrt) is told so.
#
# Debian's jool-tools package ships Jool's own C joold as /usr/bin/joold,
# with joold(8) in /usr/share/man/man8. Those stay. This one comes first:
# for `joold`, because /usr/local/bin is before /usr/bin on PATH, and for
# `man joold`, because man searches /usr/local/share/man first; the units
# run /usr/local/bin/joold by its full path. The C one is still
# /usr/bin/joold, and `man /usr/share/man/man8/joold.8.gz`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if ! version=$("$here/joold" --version 2>&1); then
  echo "install.sh: $here/joold does not run on this machine ($(uname -m)); it needs Linux with glibc:" >&2
  printf '%s\n' "$version" | head -n 3 >&2
  exit 1
fi

doc=/usr/local/share/doc/joold
install -d /usr/local/bin /usr/local/share/man/man8 "$doc/docs" "$doc/examples" \
  /etc/systemd/system /etc/joold
install -m 0755 "$here/joold" /usr/local/bin/joold
install -m 0644 "$here/joold.8" /usr/local/share/man/man8/joold.8
install -m 0644 "$here/README.md" "$here/LICENSE" "$doc/"
install -m 0644 "$here"/docs/*.md "$doc/docs/"
install -m 0644 "$here"/examples/*.json "$doc/examples/"
install -m 0644 "$here/joold.service" "$here/joold@.service" /etc/systemd/system/
for pair in netsocket:ipv6-netsocket modsocket:modsocket; do
  file=/etc/joold/${pair%%:*}.json
  if [ -e "$file" ]; then
    echo "Kept $file"
  else
    install -m 0644 "$here/examples/${pair#*:}.json" "$file"
    echo "Created $file from examples/${pair#*:}.json"
  fi
done
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi

echo "Installed $(printf '%s\n' "$version" | head -n 1) as /usr/local/bin/joold"
if [ -e /usr/bin/joold ]; then
  echo "Note: /usr/bin/joold (the C joold of Debian's jool-tools) stays; \`joold\` and \`man joold\` are this one"
fi
cat <<'NEXT'
Next: set the group and interfaces in /etc/joold/netsocket.json, then
  sudo joold check /etc/joold/netsocket.json /etc/joold/modsocket.json
  sudo systemctl enable --now joold
NEXT
