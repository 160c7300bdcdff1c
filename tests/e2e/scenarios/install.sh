#!/usr/bin/env bash
# install: a release installed as the README says, onto nodes that start
# bare, and run as the units say.
#
# The release is made here as the release workflow makes it
# (scripts/package.ts, then SHA256SUMS), except that its joold is a stand-in
# running the bundle with the executable's permissions and V8 flags
# (ours_stand_in: denort cannot be had to build the real one); busybox httpd
# serves it on the VM's loopback. Then, with Debian's PATH for root (the VM
# puts its Jool version's C joold first):
#   1. /etc and /usr/local made writable and bare (node_make_bare);
#   2. the README's "Install from a release" lines, as written but for the
#      release URL: download, checksum, unpack, install.sh;
#   3. j1 is joold.service on /etc/joold/*.json as install.sh created them,
#      j2 joold@j2 on /etc/joold/j2/ made from the installed examples; both
#      with the interfaces set to sync0. The README's `sudo joold check`
#      line in j1, and the same for j2's files in j2;
#   4. the unit the README's `systemctl enable --now` line names, and
#      joold@.service for j2, each with a drop-in
#      NetworkNamespacePath=/run/netns/NODE, run by
#      tests/e2e/lib/unit_supervisor.sh as systemd would;
#   5. traffic through both nodes; j1's daemon killed (SIGKILL); traffic
#      through j2 while it is down; the supervisor restarts it after
#      RestartSec=, it asks j2 for the sessions it missed (resync), then
#      traffic through j1 again; every node must hold every session.
# Results in install/ (the install's output, which joold and which page PATH
# and man find, the check outputs), units/NODE/runs (each run's start, pid,
# exit status, end), daemons/NODE.* (supervisor and daemon output).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly http_port=8064 debian_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
topo_setup 2
out=$E2E_OUT/install
release=$E2E_OUT/release
mkdir -p "$out" "$release" /tmp/release-build /tmp/download /tmp/readme-bin

# The release, with the stand-in. Packaging needs no network: any namespace does.
ours_stand_in /tmp/release-build/joold
run_deno_tool sync scripts/package.ts --binary /tmp/release-build/joold --arch x86_64 \
  --out-dir "$release" >"$out/package.log" 2>&1 || e2e_die "packaging failed: $(cat "$out/package.log")"
(cd "$release" && sha256sum joold-x86_64-linux.tar.gz >SHA256SUMS)
busybox httpd -f -p "127.0.0.1:$http_port" -h "$release" &
httpd=$!

node_make_bare
[ -e /usr/bin/joold ] && echo yes >"$out/debian-joold"
# The README's lines say sudo; this is root already.
printf '#!/bin/sh\nexec "$@"\n' >/tmp/readme-bin/sudo
chmod 0755 /tmp/readme-bin/sudo
readme_block "Install from a release" 1 >"$out/readme-install.sh" ||
  e2e_die "no install block in the README"
sed -i "s|https://github.com/OWNER/joold/releases/latest/download|http://127.0.0.1:$http_port|g" \
  "$out/readme-install.sh"
[ "$(grep -c "http://127.0.0.1:$http_port/" "$out/readme-install.sh")" = 2 ] ||
  e2e_die "the README's install lines no longer download two files from the release URL"
(cd /tmp/download && PATH=/tmp/readme-bin:$debian_path bash -e "$out/readme-install.sh") \
  >"$out/install.stdout" 2>"$out/install.stderr"
echo "$?" >"$out/install.exit"
kill "$httpd"
e2e_log "README install lines: exit status $(cat "$out/install.exit")"
PATH=$debian_path command -v joold >"$out/which"
PATH=$debian_path man -w joold >"$out/man" 2>/dev/null
PATH=$debian_path man -aw joold >"$out/man-all" 2>/dev/null
stat -c '%a %U %n' /usr/local/bin/joold /usr/local/share/man/man8/joold.8 \
  /etc/systemd/system/joold.service /etc/systemd/system/joold@.service \
  /etc/joold/netsocket.json /etc/joold/modsocket.json >"$out/modes" 2>&1

# The configuration: from the examples, the interface the nodes have.
examples=/usr/local/share/doc/joold/examples
mkdir -p /etc/joold/j2
cp "$examples/ipv6-netsocket.json" /etc/joold/j2/netsocket.json
cp "$examples/modsocket.json" /etc/joold/j2/modsocket.json
sed -i 's/"eth0"/"sync0"/g' /etc/joold/netsocket.json /etc/joold/j2/netsocket.json
readme_block "Install from a release" 2 >"$out/readme-start.sh" ||
  e2e_die "no start block in the README"
check_line=$(grep '^sudo joold check ' "$out/readme-start.sh") ||
  e2e_die "no joold check in the README"
check_node() {
  local node=$1 line=$2
  echo "$line" >"$out/check-$node.cmd"
  ip netns exec "$node" env PATH="/tmp/readme-bin:$debian_path" bash -c "$line" \
    >"$out/check-$node.stdout" 2>"$out/check-$node.stderr"
  echo "$?" >"$out/check-$node.exit"
  e2e_log "$line (in $node): exit status $(cat "$out/check-$node.exit")"
}
check_node j1 "$check_line"
check_node j2 "${check_line//\/etc\/joold\//\/etc\/joold\/j2\/}"

# `systemctl enable --now UNIT`, without systemd.
unit=$(sed -n 's/^sudo systemctl enable --now \([a-z@.]*\)$/\1/p' "$out/readme-start.sh")
[ -n "$unit" ] || e2e_die "no systemctl enable --now line in the README"
units=/etc/systemd/system
for dropin in "$units/$unit.service.d" "$units/joold@.service.d"; do
  mkdir -p "$dropin"
done
printf '[Service]\nNetworkNamespacePath=/run/netns/j1\n' >"$units/$unit.service.d/netns.conf"
printf '[Service]\nNetworkNamespacePath=/run/netns/%%i\n' >"$units/joold@.service.d/netns.conf"
supervise() {
  daemon_launch "$1" bash "$E2E_REPO/tests/e2e/lib/unit_supervisor.sh" "$2" "$3" \
    "$E2E_OUT/units/$1"
  daemon_wait_ready "$1" 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in $1 did not start"
}
supervise j1 "$units/$unit.service" ""
supervise j2 "$units/joold@.service" j2
e2e_log "$unit.service runs in j1, joold@j2.service in j2"

traffic_all j1
traffic_all j2
sessions_wait_sync 15 || e2e_die "the nodes did not sync before the kill"

# A crash: the supervisor must start it again, and it must catch up.
killed=$(cat "$E2E_OUT/units/j1/pid")
kill -KILL "$killed"
e2e_log "killed j1's daemon (pid $killed)"
traffic_all j2
deadline=$((SECONDS + 30))
until [ "$(cat "$E2E_OUT/units/j1/pid")" != "$killed" ] && udp_port_bound j1 "$E2E_SYNC_PORT" &&
  udp_port_bound j1 $((E2E_SYNC_PORT + 1)); do
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "the supervisor did not restart j1's daemon"
  sleep 0.2
done
e2e_log "j1's daemon restarted (pid $(cat "$E2E_OUT/units/j1/pid"))"
sleep 1
traffic_all j1
sessions_wait_sync 20
sessions_dump
e2e_finish
