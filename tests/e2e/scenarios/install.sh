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
  /usr/local/lib/systemd/system/joold.service /usr/local/lib/systemd/system/joold@.service \
  /etc/joold/netsocket.json /etc/joold/modsocket.json >"$out/modes" 2>&1
getent passwd joold | cut -d: -f1,3,6,7 >"$out/user"

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
# check_node NODE LINE [NAME]: LINE in NODE, its results as check-NAME.* (default NODE).
check_node() {
  local node=$1 line=$2 name=${3:-$1}
  echo "$line" >"$out/check-$name.cmd"
  ip netns exec "$node" env PATH="/tmp/readme-bin:$debian_path" bash -c "$line" \
    >"$out/check-$name.stdout" 2>"$out/check-$name.stderr"
  echo "$?" >"$out/check-$name.exit"
  e2e_log "$line (in $node): exit status $(cat "$out/check-$name.exit")"
}
check_node j1 "$check_line"
check_node j2 "${check_line//\/etc\/joold\//\/etc\/joold\/j2\/}"

# `systemctl enable --now UNIT`, without systemd.
unit=$(sed -n 's/^sudo systemctl enable --now \([a-z@.]*\)$/\1/p' "$out/readme-start.sh")
[ -n "$unit" ] || e2e_die "no systemctl enable --now line in the README"
# The units where install.sh put them; the namespaces in drop-ins where
# `systemctl edit` puts them.
units=/usr/local/lib/systemd/system
dropins=/etc/systemd/system
for dropin in "$dropins/$unit.service.d" "$dropins/joold@.service.d"; do
  mkdir -p "$dropin"
done
printf '[Service]\nNetworkNamespacePath=/run/netns/j1\n' >"$dropins/$unit.service.d/netns.conf"
printf '[Service]\nNetworkNamespacePath=/run/netns/%%i\n' >"$dropins/joold@.service.d/netns.conf"
# supervise NODE UNIT INSTANCE [RECORD]: the unit in NODE, as systemd would
# run it (its user, capabilities, environment, notify socket), recorded as
# RECORD (default NODE) in daemons/ and units/; waits for READY=1.
supervise() {
  local record=${4:-$1}
  daemon_launch_as "$record" "$1" bash "$E2E_REPO/tests/e2e/lib/unit_supervisor.sh" "$2" "$3" \
    "$E2E_OUT/units/$record"
  local deadline=$((SECONDS + 60))
  until [ -s "$E2E_OUT/units/$record/ready" ] &&
    [ "$(cat "$E2E_OUT/units/$record/ready")" = "$(cat "$E2E_OUT/units/$record/pid")" ]; do
    daemon_exited "$record" && e2e_die "the unit in $1 ended: $(tail -3 "$E2E_OUT/daemons/$record.stderr")"
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the daemon in $1 sent no READY=1 within 60 s"
    sleep 0.2
  done
}
# identity RECORD NAME: who the unit's daemon runs as, from /proc, into identity-NAME.
identity() {
  grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' \
    "/proc/$(cat "$E2E_OUT/units/$1/pid")/status" >"$out/identity-$2"
}
# status NODE NAME: `joold status` in NODE as root, its output and exit status in install/.
status() {
  ip netns exec "$1" env PATH="$debian_path" joold status >"$out/status-$2.txt" 2>&1
  echo "$?" >"$out/status-$2.exit"
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
sessions_wait_sync 20 || e2e_log "the nodes are not in sync after j1's restart"
identity j1 j1-clear
status j1 in-sync

# Sealed: a key from `joold keygen` (root:joold 0640), the same on both
# nodes, named in both netsocket files; the units started again. Between
# the runs `joold status` says "not running"; j1 starts while j2's daemon
# is stopped (SIGSTOP), so its resync waits: "not in sync", until j2 runs on.
ip netns exec j1 env PATH="$debian_path" joold keygen /etc/joold/sync.key \
  >"$out/keygen.stdout" 2>"$out/keygen.stderr" || e2e_die "joold keygen failed: $(cat "$out/keygen.stderr")"
cp -p /etc/joold/sync.key /etc/joold/j2/sync.key
stat -c '%a %U %G %n' /etc/joold/sync.key /etc/joold/j2/sync.key >"$out/key-modes"
for files in /etc/joold /etc/joold/j2; do
  sed -i "0,/^{/s||{\n  \"auth key file\": \"$files/sync.key\",|" "$files/netsocket.json"
done
check_node j1 "$check_line" j1-sealed
for node in j1 j2; do
  daemon_stop "$node"
  daemon_set_aside "$node" "$node-clear"
  mv "$E2E_OUT/units/$node" "$E2E_OUT/units/$node-clear"
done
status j1 stopped
supervise j2 "$units/joold@.service" j2 j2
kill -STOP "$(cat "$E2E_OUT/units/j2/pid")"
# `joold status` in j1 again and again from before its start: each exit status on a line.
(
  while :; do
    ip netns exec j1 env PATH="$debian_path" joold status -q
    echo "$?"
  done
) >"$out/status-sequence" 2>&1 &
poller=$!
supervise j1 "$units/$unit.service" ""
sleep 3
kill "$poller"
wait "$poller" 2>/dev/null
kill -CONT "$(cat "$E2E_OUT/units/j2/pid")"
deadline=$((SECONDS + 30))
until status j1 in-sync-sealed && [ "$(cat "$out/status-in-sync-sealed.exit")" = 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 1
done
e2e_log "sealed units run (joold status in j1: $(cat "$out/status-in-sync-sealed.exit"))"
identity j1 j1
identity j2 j2
traffic_all j1
traffic_all j2
sessions_wait_sync 20 || e2e_log "the sealed nodes are not in sync"
sessions_dump
e2e_finish
