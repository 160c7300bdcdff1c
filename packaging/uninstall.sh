#!/bin/sh
# Removes what install.sh installed: stops and disables the units, removes
# the executable, joold(8), the docs, the units and this script. Keeps
# /etc/joold (the configuration and any key file) unless --purge is given.
# The system user joold stays, as Debian keeps system users (files it owned
# would otherwise pass to whoever gets its uid next): `userdel joold`
# removes it. Run it as root.
set -eu

purge=no
case "${1:-}" in
  "") ;;
  --purge) purge=yes ;;
  *)
    echo "Usage: uninstall.sh [--purge]" >&2
    exit 2
    ;;
esac

units=/usr/local/lib/systemd/system
if [ -d /run/systemd/system ]; then
  systemctl stop joold.service 'joold@*.service' || true
fi
# Disabled: the links `systemctl enable` made to the units (joold@NAME's too).
find /etc/systemd/system -type l \( -lname "$units/joold.service" -o \
  -lname "$units/joold@.service" \) -delete
rm -f /usr/local/bin/joold /usr/local/share/man/man8/joold.8 \
  "$units/joold.service" "$units/joold@.service"
rm -rf /usr/local/share/doc/joold
rm -f /usr/local/lib/joold/uninstall.sh
rmdir /usr/local/lib/joold 2>/dev/null || true
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi
for unit in joold.service joold@.service; do
  if [ -e "/etc/systemd/system/$unit" ]; then
    echo "Kept /etc/systemd/system/$unit: yours, not install.sh's"
  fi
done
if [ "$purge" = yes ]; then
  rm -rf /etc/joold
  echo "Removed joold and /etc/joold"
else
  echo "Removed joold; kept /etc/joold (uninstall.sh --purge removes it)"
fi
echo "The system user joold stays: userdel joold removes it"
