#!/usr/bin/env bash
# faults-sealed: a flood of forged sealed datagrams against two of this
# project's joold in sealed mode ("auth key file", one key made by `joold
# keygen`), during a burst of 10,000 UDP sessions through j1. A stranger on
# the sync link (namespace g) captures one of j1's sealed datagrams and then
# sends, as fast as it can, datagrams shaped like it
# (tests/e2e/lib/sealed_garbage.ts): the current key id, a fresh counter, and
# j1's sender id or a new random one, so that only an AEAD attempt could
# refuse each, 1,400 bytes long, from two senders at once. Every session of
# the burst must reach j2, and neither daemon may end. Leaves in sealed/:
# flood1.json and flood2.json (what g sent), capture.txt, and
# the daemons' JSON counters before and after (stats/NODE.flood.*).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 probe=tests/e2e/lib/sync_probe.ts tool=tests/e2e/lib/flood.ts
readonly burst=${JOOLD_E2E_SEALED_BURST:-10000}
topo_setup 2
topo_add_sync_host g 9
out=$E2E_OUT/sealed
keys=/tmp/keys
mkdir -p "$out" && mkdir -m 0700 "$keys" || e2e_die "cannot make the key directory"

topo_burst_pool4 j1 j2
run_ours_command j1 keygen keygen "$keys/sync.key" || e2e_die "joold keygen failed"
for node in j1 j2; do
  net=$E2E_OUT/config/$node.netsocket.json mod=$E2E_OUT/config/$node.modsocket.json
  netsocket_write "$node" 6 "$net" "$keys/sync.key"
  modsocket_write "$mod"
  start_ours "$node" "$net" "$mod" "$stats_port"
done
for node in j1 j2; do
  daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done
e2e_log "sealed joold runs in j1 and j2"

# One of j1's sealed datagrams, for the forgeries' shape.
g_link=("$E2E_MCAST6" "$E2E_SYNC_PORT" sync0)
run_deno_tool g "$probe" "${g_link[@]}" capture "$out/captured.bin" 60 2001:db8:ff08::1 \
  >"$out/capture.txt" 2>&1 &
capture=$!
udp_port_wait g "$E2E_SYNC_PORT" 30 || e2e_die "the capture did not start"
traffic_udp j1
wait "$capture" || e2e_die "no sealed datagram captured: $(cat "$out/capture.txt")"
sessions_wait_sync 20 || e2e_log "j2 does not hold j1's first sessions"
stats_wait_quiet j1 "$stats_port" 10

for node in j1 j2; do
  stats_json "$node" "$stats_port" "$node.flood.before"
  ip netns exec "$node" cat /proc/net/snmp6 >"$out/$node.snmp6.before"
done
# Two senders (the VM's two vCPUs), datagrams as large as the link's MTU
# allows unfragmented: the most AEAD work the VM can ask of the daemons.
floods=()
for sender in 1 2; do
  run_deno_tool g "$tool" udp --to "$E2E_MCAST6" --port "$E2E_SYNC_PORT" --interface sync0 \
    --payload sealed-garbage --base "$out/captured.bin" --size 1400 --count 100000000 \
    --seconds "${JOOLD_E2E_SEALED_FLOOD_SECONDS:-40}" --source-ports 64 \
    --first-source-port $((40000 + sender * 100)) --report "$out/flood$sender.json" \
    --started "/tmp/flood$sender.started" >"$out/flood$sender.txt" 2>&1 &
  floods+=($!)
done
deadline=$((SECONDS + 60))
until [ -e /tmp/flood1.started ] && [ -e /tmp/flood2.started ]; do
  for flood in "${floods[@]}"; do
    kill -0 "$flood" 2>/dev/null || e2e_die "a flood failed: $(cat "$out"/flood?.txt)"
  done
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "the flood did not start within 60 s"
  sleep 0.2
done
e2e_log "sealed garbage flood started"
sleep 1
traffic_udp_flows j1 "$burst" 20000
running=no
for flood in "${floods[@]}"; do
  kill -0 "$flood" 2>/dev/null && running=yes
done
echo "$running" >"$out/flood.running_after_burst"
e2e_log "burst of $burst sessions through j1 sent; the flood still running: $running"
sessions_wait_sync 60 || e2e_log "j2 does not hold j1's sessions"
for sender in 1 2; do
  wait "${floods[sender - 1]}" || e2e_die "flood $sender failed: $(cat "$out/flood$sender.txt")"
  e2e_log "$(cat "$out/flood$sender.txt")"
done
sessions_wait_sync 30 || e2e_log "j2 does not hold j1's sessions after the flood"
stats_wait_quiet j1 "$stats_port" 10
for node in j1 j2; do
  daemon_exited "$node" && e2e_die "$node's daemon ended during the flood"
  stats_json "$node" "$stats_port" "$node.flood.after"
  ip netns exec "$node" cat /proc/net/snmp6 >"$out/$node.snmp6.after"
  stats_json "$node" "$stats_port" "$node"
done
sessions_dump
e2e_finish
