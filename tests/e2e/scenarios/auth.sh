#!/usr/bin/env bash
# auth: this project's joold with "auth key file" on j1, j2 and j3 over IPv6
# multicast; j4 runs ours in clear (a stranger sending well-formed batches of
# its own sessions to the group) and j5 ours with a wrong key. Traffic through
# every node: j1-j3 must hold exactly their sessions, j4 and j5 only their own.
# A bare namespace "g" on the sync link captures one sealed datagram of j1 and
# replays it 5 times: j1-j3 must count 5 replays each and hand nothing new to
# their kernels. j2's daemon is restarted and the replay sent again, from j1's
# address this time: it too must count 5 replays and hand nothing to its
# kernel. Then the keys are rotated node by node (add key 2 as next,
# make it current, drop key 1; SIGHUP after each file change) with traffic
# through each node between the steps: no session may be lost.
#
# The key files are made by `joold keygen` (a second keygen onto an existing
# file must fail). Leaves in auth/: keys.txt (modes, keygen exits), NODE.before
# and NODE.after JSON counters around the replay (in stats/), j2.restarted.before
# and .after around the second, capture.txt, replay.txt, replay-restarted.txt;
# j2's first daemon's record as daemons/j2-first.*.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 probe=tests/e2e/lib/sync_probe.ts replays=5
topo_setup 5
topo_add_sync_host g 9
out=$E2E_OUT/auth
keys=/tmp/keys
mkdir -p "$out" && mkdir -m 0700 "$keys" || e2e_die "cannot make the key directory"

for name in k1 k2 wrong; do
  run_ours_command j1 "keygen-$name" keygen "$keys/$name.gen" || e2e_die "keygen $name failed"
done
run_ours_command j1 keygen-again keygen "$keys/k1.gen"
{
  echo "k1.mode=$(stat -c %a "$keys/k1.gen")"
  echo "again.exit=$(cat "$E2E_OUT/commands/keygen-again.exit")"
} >"$out/keys.txt"
secret() {
  awk '$1 == "key" { print $3 }' "$1"
}
k1=$(secret "$keys/k1.gen") k2=$(secret "$keys/k2.gen") wrong=$(secret "$keys/wrong.gen")

# keys_write NODE LINE...: NODE's key file, one key LINE each, mode 0600.
keys_write() {
  local node=$1
  shift
  printf '%s\n' "$@" >"$keys/$node"
  chmod 0600 "$keys/$node"
}

# auth_start NODE [KEY_FILE]: our joold on NODE over IPv6 multicast, with the
# stats port, sealed if KEY_FILE is given.
auth_start() {
  local node=$1 key=${2:-}
  local net=$E2E_OUT/config/$node.netsocket.json mod=$E2E_OUT/config/$node.modsocket.json
  netsocket_write "$node" 6 "$net" "$key"
  modsocket_write "$mod"
  start_ours "$node" "$net" "$mod" "$stats_port"
  e2e_log "started our joold in $node${key:+ with $key}"
}

for node in j1 j2 j3; do
  keys_write "$node" "key 1 $k1 current"
  auth_start "$node" "$keys/$node"
done
auth_start j4
keys_write j5 "key 1 $wrong current"
auth_start j5 "$keys/j5"
for node in j1 j2 j3 j4 j5; do
  daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done

# auth_wait_sync TIMEOUT: waits until j1, j2 and j3 hold the same sessions.
auth_wait_sync() {
  local deadline=$((SECONDS + $1)) first
  while :; do
    first=$(session_tuples j1)
    [ "$(session_tuples j2)" = "$first" ] && [ "$(session_tuples j3)" = "$first" ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

g_link=("$E2E_MCAST6" "$E2E_SYNC_PORT" sync0)
run_deno_tool g "$probe" "${g_link[@]}" capture "$out/captured.bin" 60 2001:db8:ff08::1 >"$out/capture.txt" 2>&1 &
capture=$!
udp_port_wait g "$E2E_SYNC_PORT" 30 || e2e_die "the capture did not start"
for node in j1 j2 j3 j4 j5; do
  traffic_all "$node"
done
wait "$capture" || e2e_die "no sealed datagram captured: $(cat "$out/capture.txt")"
auth_wait_sync 20 || e2e_log "j1-j3 are not in sync before the replay"
# Later batches (TCP state changes) may still be on their way.
sleep 2

for node in j1 j2 j3; do
  stats_json "$node" "$stats_port" "$node.before"
done
run_deno_tool g "$probe" "${g_link[@]}" replay "$out/captured.bin" "$replays" >"$out/replay.txt" 2>&1 ||
  e2e_die "the replay failed: $(cat "$out/replay.txt")"
sleep 2
for node in j1 j2 j3; do
  stats_json "$node" "$stats_port" "$node.after"
done

# The same replay to a receiver that restarted: its replay windows start
# empty, so only its peers' proof of liveness can refuse what was captured.
# j2's first run is kept as j2-first.
daemon_stop j2
daemon_set_aside j2 j2-first
auth_start j2 "$keys/j2"
daemon_wait_ready j2 60 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "j2's daemon did not start again"
auth_wait_sync 20 || e2e_log "j2 is not in sync after its restart"
stats_wait_quiet j2 "$stats_port" 10
stats_json j2 "$stats_port" j2.restarted.before
# From j1's own address and port this time, as a spoofing attacker would: g
# holds j1's address alone while it replays.
ip -n g addr del 2001:db8:ff08::9/96 dev sync0 && ip -n g addr add 2001:db8:ff08::1/96 dev sync0 nodad ||
  e2e_die "cannot give g j1's address"
run_deno_tool g "$probe" "${g_link[@]}" replay "$out/captured.bin" "$replays" \
  >"$out/replay-restarted.txt" 2>&1
replayed=$?
ip -n g addr del 2001:db8:ff08::1/96 dev sync0 && ip -n g addr add 2001:db8:ff08::9/96 dev sync0 nodad ||
  e2e_die "cannot give g its address back"
[ "$replayed" = 0 ] || e2e_die "the replay failed: $(cat "$out/replay-restarted.txt")"
sleep 2
stats_json j2 "$stats_port" j2.restarted.after

# Rotation, node by node, traffic through the node after each SIGHUP.
rotate() {
  local node
  for node in j1 j2 j3; do
    keys_write "$node" "$@"
    kill -HUP "$(daemon_pid "$node")" || e2e_die "cannot signal $node's daemon"
    sleep 0.5
    traffic_udp "$node"
    traffic_tcp "$node"
  done
}
e2e_log "rotation: key 2 added as next"
rotate "key 1 $k1 current" "key 2 $k2 next"
e2e_log "rotation: key 2 made current"
rotate "key 1 $k1 next" "key 2 $k2 current"
e2e_log "rotation: key 1 dropped"
rotate "key 2 $k2 current"
# Jool's ICMP sessions last 60 s, less than this scenario: pings renew them.
for node in j1 j2 j3 j4 j5; do
  traffic_icmp "$node"
done
if auth_wait_sync 30; then
  echo "in sync" >"$out/sync.txt"
else
  echo "not in sync after 30 s" >"$out/sync.txt"
fi
sleep 1
for node in j1 j2 j3 j4 j5; do
  stats_json "$node" "$stats_port" "$node"
done
sessions_dump
e2e_finish
