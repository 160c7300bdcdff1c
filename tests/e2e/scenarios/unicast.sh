#!/usr/bin/env bash
# unicast: this project's joold with "unicast peers" over IPv4, multicast
# blocked on the sync bridge (mcast_flood off on every port; ARP is broadcast
# and still flows). A probe shows the block: 5 datagrams to the group reach a
# listener on the link before it, none after. Phase A: j1 and j2 in clear,
# traffic through both, in sync. Phase B: j1 and j2 restarted with "auth key
# file" and all three peers; j3 starts last and must get the others' sessions
# by resync over unicast (resync_watch); then traffic through j3 and j1, and
# every node must hold every session.
#
# Leaves in unicast/: multicast_probe.{open,txt}, phase_a.txt, phase_a.NODE.stderr,
# resync/ (resync_watch's timeline and result).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 probe=tests/e2e/lib/sync_probe.ts
topo_setup 3
topo_add_sync_host g 9
out=$E2E_OUT/unicast
mkdir -p "$out/resync"

# multicast_probe FILE: how many of 5 datagrams j1 sends to the IPv4 group
# reach g, into FILE.
multicast_probe() {
  local listener
  run_deno_tool g "$probe" "$E2E_MCAST4" "$E2E_SYNC_PORT" 198.51.100.9 listen 15 >"$1" 2>&1 &
  listener=$!
  udp_port_wait g "$E2E_SYNC_PORT" 30 || e2e_die "the probe listener did not start"
  run_deno_tool j1 "$probe" "$E2E_MCAST4" "$E2E_SYNC_PORT" 198.51.100.1 send 5 >/dev/null 2>&1 ||
    e2e_die "the probe could not send"
  wait "$listener"
}
multicast_probe "$out/multicast_probe.open"
for port in port1 port2 port3 port9; do
  ip netns exec sync bridge link set dev "$port" mcast_flood off ||
    e2e_die "cannot block multicast on $port"
done
multicast_probe "$out/multicast_probe.txt"
e2e_log "multicast probe: $(cat "$out/multicast_probe.open") before the block, $(cat "$out/multicast_probe.txt") after"

# unicast_start NODE PEERS [KEY_FILE]: our joold on NODE sending to the
# space-separated node numbers PEERS by IPv4 unicast, sealed if KEY_FILE.
unicast_start() {
  local node=$1 peers=$2 key=${3:-} n list=""
  local net=$E2E_OUT/config/$node.netsocket.json mod=$E2E_OUT/config/$node.modsocket.json
  for n in $peers; do list+="${list:+, }\"198.51.100.$n\""; done
  cat >"$net" <<JSON
{
  "multicast address": "$E2E_MCAST4",
  "multicast port": "$E2E_SYNC_PORT",
  "unicast peers": [$list]${key:+,
  \"auth key file\": \"$key\"}
}
JSON
  modsocket_write "$mod"
  start_ours "$node" "$net" "$mod" "$stats_port"
  e2e_log "started our joold in $node: unicast to $peers${key:+, sealed}"
}

# Phase A: two nodes in clear.
unicast_start j1 2
unicast_start j2 1
for node in j1 j2; do
  daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done
traffic_all j1
traffic_all j2
deadline=$((SECONDS + 20))
result="not in sync"
while [ "$SECONDS" -lt "$deadline" ]; do
  if [ "$(session_tuples j1)" = "$(session_tuples j2)" ]; then
    result="in sync"
    break
  fi
  sleep 0.5
done
echo "sync=$result" >"$out/phase_a.txt"
e2e_log "phase A (two nodes, clear): $result"
daemons_stop
for node in j1 j2; do
  cp "$E2E_OUT/daemons/$node.stderr" "$out/phase_a.$node.stderr"
done

# Phase B: three nodes, sealed; j3 joins last and resyncs over unicast.
mkdir -m 0700 /tmp/keys || e2e_die "cannot make the key directory"
run_ours_command j1 keygen keygen /tmp/keys/sync.key || e2e_die "keygen failed"
unicast_start j1 "2 3" /tmp/keys/sync.key
unicast_start j2 "1 3" /tmp/keys/sync.key
for node in j1 j2; do
  daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done
unicast_start j3 "1 2" /tmp/keys/sync.key
resync_watch j3 "$(session_count j1 udp)" 20 "$out/resync"
traffic_all j3
traffic_all j1
sessions_wait_sync 20
sleep 1
for node in j1 j2 j3; do
  stats_json "$node" "$stats_port" "$node"
done
sessions_dump
e2e_finish
