#!/bin/sh
# Installs the joold of this release folder on this machine; run it as root
# (README "Install"). It puts:
#   /usr/local/bin/joold                         the executable
#   /usr/local/share/man/man8/joold.8            joold(8)
#   /usr/local/share/doc/joold/                  README.md, LICENSE, docs/, examples/
#   /usr/local/lib/systemd/system/joold.service, joold@.service
#   /usr/local/lib/joold/uninstall.sh            removes all of the above
#   /etc/joold/netsocket.json, modsocket.json    from the examples, unless already there
# and creates the system user and group joold that the units run as.
# Running it again upgrades the executable, page, docs and units and keeps
# the configuration. Before installing anything it runs the executable, so
# a machine it cannot run on (another architecture, or a C library other
# than glibc, e.g. musl on Alpine or OpenWrt) is told so.
#
# The units go to /usr/local/lib/systemd/system, where systemd looks after
# /etc/systemd/system: what the operator puts in /etc (a drop-in from
# `systemctl edit joold`, or a whole copy) wins and an upgrade never
# overwrites it. A copy in /etc/systemd/system that an earlier install.sh
# put there is removed if unedited (its checksum is one this script
# shipped), else kept and named.
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

# The sha256 of every joold.service and joold@.service that earlier
# versions of this script installed into /etc/systemd/system.
earlier_units="
0e4ad6c33b2d1cf61c3be91a839265758b3da1601efe8092fc3ff374860ed298
427aaff96cdb23d6592b43ddee00e1a99d4386db03b6ce23f8aeca2f69e13e46
82bc163a2e2d713a57b884f0e08bb5607c597140e8befd450ed9dbe5238f57bc
a4a0371c38ae91dd1f685a46d7e164317f7c5520aaa710492bec4558747c0939
be26ef77f30ead624118be8fd80135745f5dd2cf68a957bc076a78bc3481ffe1
e4ef49fa0626925a6aa97bf079ec70f6234a73d30ea7af96878c7452775a6f88
f5a632e466197e8078b2b28bd34acb92f1adc91664f807acce8efa5b888a8916
"

# The units' User= and Group=: a system account with no home and no shell.
if ! getent group joold >/dev/null; then
  groupadd --system joold
fi
if ! getent passwd joold >/dev/null; then
  useradd --system --gid joold --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin joold
  echo "Created the system user joold"
fi

doc=/usr/local/share/doc/joold
units=/usr/local/lib/systemd/system
install -d /usr/local/bin /usr/local/share/man/man8 "$doc/docs" "$doc/examples" \
  "$units" /usr/local/lib/joold /etc/joold
install -m 0755 "$here/joold" /usr/local/bin/joold
install -m 0644 "$here/joold.8" /usr/local/share/man/man8/joold.8
install -m 0644 "$here/README.md" "$here/LICENSE" "$doc/"
install -m 0644 "$here"/docs/*.md "$doc/docs/"
install -m 0644 "$here"/examples/*.json "$doc/examples/"
install -m 0644 "$here/joold.service" "$here/joold@.service" "$units/"
install -m 0755 "$here/uninstall.sh" /usr/local/lib/joold/uninstall.sh
for unit in joold.service joold@.service; do
  old=/etc/systemd/system/$unit
  [ -f "$old" ] && [ ! -L "$old" ] || continue
  sum=$(sha256sum "$old" | cut -d' ' -f1)
  case "$earlier_units" in
    *"$sum"*)
      rm "$old"
      # `systemctl enable` pointed the target's link at the copy: point it at the unit.
      find /etc/systemd/system -type l -lname "$old" -exec ln -sfn "$units/$unit" {} \;
      echo "Removed $old (an earlier install.sh's, unedited); the unit is $units/$unit"
      ;;
    *)
      echo "Kept $old: it overrides $units/$unit; compare them, then move your changes to a drop-in (systemctl edit ${unit%.service}) and remove it"
      ;;
  esac
done
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
  # An upgrade: the running daemons, and only those, run the new executable.
  systemctl try-restart joold.service 'joold@*.service'
fi

echo "Installed $(printf '%s\n' "$version" | head -n 1) as /usr/local/bin/joold"
if [ -e /usr/bin/joold ]; then
  echo "Note: /usr/bin/joold (the C joold of Debian's jool-tools) stays; \`joold\` and \`man joold\` are this one"
fi
cat <<'NEXT'
Next: set the group and interfaces in /etc/joold/netsocket.json, then
  sudo joold check /etc/joold/netsocket.json /etc/joold/modsocket.json
  sudo systemctl enable --now joold
To remove it: sudo /usr/local/lib/joold/uninstall.sh (--purge: /etc/joold too)
NEXT
