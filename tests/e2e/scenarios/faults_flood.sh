#!/usr/bin/env bash
# faults-flood: hostile traffic from a stranger on the sync link (namespace
# g, 2001:db8:ff08::9 and 198.51.100.9) against two of this project's joold
# (stats port 45678, metrics port 9464), each fault with its own burst of
# UDP flows through j1 in flight (tests/e2e/lib/flood.ts makes the traffic):
#   1. forge: one `json` datagram whose source is j1's stats port, sent to
#      j2's: j2 answers it (to j1), j1 must not answer that answer;
#   2. stats: `json` requests as fast as g can send them to j1's stats port,
#      and g's workers connecting to j1's metrics port again and again
#      (half asking for /metrics, half saying nothing), during a burst;
#   3. requests: 5,000 forged resync REQUESTs (fresh nonces) to the group's
#      control port in 1 s;
#   4. garbage: 100,000 random and mutated batches (in the kernel's own
#      encoding, tests/e2e/lib/garbage_datagrams.ts) from 5,000 source ports
#      to the group's sync port, during a burst.
# Both daemons' JSON counters are taken before and after each fault, into
# stats/NODE.FAULT.{before,after}.json; what g sent into faults/FAULT.json;
# each burst's sessions must reach j2 (checkSync: traffic.csv lists every
# flow), and neither daemon may end.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 metrics_port=9464 tool=tests/e2e/lib/flood.ts
# Four bursts and the first flows must fit pool4's 4,535 UDP ports.
readonly burst=${JOOLD_E2E_FAULTS_BURST:-1100}
topo_setup 2
topo_add_sync_host g 9
out=$E2E_OUT/faults
mkdir -p "$out"
jool_version=$(cat /sys/module/jool/version) || e2e_die "no /sys/module/jool/version"
echo "$jool_version" >"$out/jool.version"
for node in j1 j2; do
  E2E_OURS_OPTIONS="--metrics-port $metrics_port" node_start_daemon "$node" ours 6 "$stats_port"
done
for node in j1 j2; do
  daemon_wait_ready "$node" 30 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done

# A valid batch, in this kernel's encoding, for the garbage to be made of.
capture_valid_batch "$out" "$jool_version" traffic_udp j1

# snapshot FAULT WHEN: both daemons' JSON counters.
snapshot() {
  local node
  for node in j1 j2; do
    stats_json "$node" "$stats_port" "$node.$1.$2"
  done
}

# metrics NODE NAME: NODE's Prometheus metrics into stats/NAME.metrics (the
# ACK latency histogram's buckets give each phase's own percentiles).
metrics() {
  ip netns exec "$1" curl -sS --max-time 5 "http://198.51.100.${1#j}:$metrics_port/metrics" \
    >"$E2E_OUT/stats/$2.metrics" 2>&1
}

# burst FIRST_PORT: $burst UDP flows through j1 from client ports FIRST_PORT...
burst() {
  traffic_udp_flows j1 "$burst" "$1"
}

# fault_done FAULT: waits until j2 holds j1's sessions, then the counters settle.
fault_done() {
  sessions_wait_sync 30 || e2e_log "$1: j2 does not hold j1's sessions"
  cp "$E2E_OUT/sync.txt" "$out/$1.sync"
  stats_wait_quiet j1 "$stats_port" 10
  snapshot "$1" after
  daemon_exited j1 && e2e_die "j1's daemon ended during $1"
  daemon_exited j2 && e2e_die "j2's daemon ended during $1"
  e2e_log "$1 done"
}

# 1. One forged stats request between the two stats servers. Two snapshots
# first: what asking for the counters alone adds to them.
snapshot forge base
snapshot forge before
run_deno_tool g "$tool" forge --from "198.51.100.1:$stats_port" --to 198.51.100.2 \
  --port "$stats_port" --payload json --report "$out/forge.json" >"$out/forge.txt" 2>&1 ||
  e2e_die "forging failed: $(cat "$out/forge.txt")"
sleep 3
snapshot forge after

# 2. A burst alone (the ACK latency to compare with), then a json flood at
# the stats port and a connection flood at the metrics port while a burst
# goes through j1.
metrics j1 j1.quiet.before
burst 20000
sessions_wait_sync 30 || e2e_log "quiet: j2 does not hold j1's sessions"
stats_wait_quiet j1 "$stats_port" 10
metrics j1 j1.quiet.after
snapshot stats before
run_deno_tool g "$tool" udp --to 198.51.100.1 --port "$stats_port" --payload json \
  --count "${JOOLD_E2E_FAULTS_STATS_COUNT:-50000}" --source-ports 100 \
  --report "$out/stats-udp.json" >"$out/stats-udp.txt" 2>&1 &
json_flood=$!
run_deno_tool g "$tool" http --to 198.51.100.1 --port "$metrics_port" --seconds 12 \
  --connections 32 --report "$out/stats-http.json" >"$out/stats-http.txt" 2>&1 &
http_flood=$!
sleep 2
burst 22000
# A scrape from j2 while the flood goes on: served or not, it is recorded.
ip netns exec j2 curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{time_total}\n' \
  "http://198.51.100.1:$metrics_port/metrics" >"$out/stats-scrape.txt" 2>&1
wait "$json_flood" || e2e_die "the json flood failed: $(cat "$out/stats-udp.txt")"
wait "$http_flood" || e2e_die "the metrics flood failed: $(cat "$out/stats-http.txt")"
e2e_log "$(cat "$out/stats-udp.txt") $(cat "$out/stats-http.txt")"
fault_done stats
metrics j1 j1.stats.after

# 3. 5,000 forged resync REQUESTs in 1 s; both daemons hear them.
snapshot requests before
run_deno_tool g "$tool" udp --to "$E2E_MCAST6" --port $((E2E_SYNC_PORT + 1)) --interface sync0 \
  --payload request --count 5000 --rate 5000 --report "$out/requests.json" \
  >"$out/requests.txt" 2>&1 || e2e_die "the request flood failed: $(cat "$out/requests.txt")"
e2e_log "$(cat "$out/requests.txt")"
# Requests still pending when the flood ends are answered within the interval (2 s).
sleep 5
fault_done requests

# 4. 100,000 invalid datagrams from 5,000 ports to the sync port, during a burst.
snapshot garbage before
for node in j1 j2; do
  ip netns exec "$node" cat /proc/net/snmp6 >"$out/$node.snmp6.garbage.before"
  session_tuples "$node" >"$out/$node.sessions.garbage.before"
done
run_deno_tool g "$tool" udp --to "$E2E_MCAST6" --port "$E2E_SYNC_PORT" --interface sync0 \
  --payload garbage --base "$out/base.bin" --jool-version "$jool_version" \
  --count "${JOOLD_E2E_FAULTS_GARBAGE_COUNT:-100000}" \
  --rate "${JOOLD_E2E_FAULTS_GARBAGE_RATE:-0}" --source-ports 5000 --first-source-port 40000 \
  --report "$out/garbage.json" --started /tmp/garbage.started >"$out/garbage.txt" 2>&1 &
garbage_flood=$!
deadline=$((SECONDS + 60))
until [ -e /tmp/garbage.started ]; do
  kill -0 "$garbage_flood" 2>/dev/null || e2e_die "the garbage flood failed: $(cat "$out/garbage.txt")"
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "the garbage flood did not start within 60 s"
  sleep 0.2
done
e2e_log "garbage flood started"
sleep 1
burst 24000
wait "$garbage_flood" || e2e_die "the garbage flood failed: $(cat "$out/garbage.txt")"
e2e_log "$(cat "$out/garbage.txt")"
fault_done garbage
for node in j1 j2; do
  ip netns exec "$node" cat /proc/net/snmp6 >"$out/$node.snmp6.garbage.after"
done

jool_kernel_problems >"$out/kernel.after"
sessions_dump
e2e_finish
