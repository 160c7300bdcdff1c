#!/usr/bin/env bash
# The convergence-check benchmark, INSIDE the VM (scripts/bench_convergence.ts
# boots it): what one convergence round (docs/lossless.md, "Convergence
# check") costs on full tables of the real Jool, and how long it takes to
# find and repair a difference. For each size N of CONV_SIZES:
#
# 1. Fresh instances on j1 and j2 (bench_reset_instances) with udp-timeout
#    CONV_UDP_TIMEOUT; ours started on both as shipped, with debug logging.
#    Before the tables fill: a daemon offers its table 3 s after start and
#    answers its peers' resync requests, which would carry the difference
#    across before any round.
# 2. bench/session_injector.ts writes the same N UDP sessions into both
#    kernels (JOOLD_ADD, as the daemon hands a peer's sessions over: the
#    kernel does not multicast those), and CONV_EXTRAS more into j1 only,
#    all in CONV_BUCKETS digest buckets. Each is sent as idle for
#    CONV_IDLE_S already (its remaining time is the timeout minus that), so
#    that it counts in a round at once (a round counts sessions idle for
#    60 s at its start).
# 3. Once the daemons may take part in a round (2 minutes after their own
#    first round, 90 s after start), bench/round_start.ts sends a round's
#    start from a host of the sync link with no daemon; both daemons read
#    their tables, exchange digests, and 30 s later each sends its sessions
#    of the buckets that differed.
# 4. Until both daemons have logged their repair and j2 holds the extras
#    (CONV_WAIT_S at most): j2's session count every 0.5 s. Recorded: each
#    daemon's CPU and memory, what each node sent on the sync link (all of
#    it, and per port where tc's flower classifier is there), the daemons'
#    JSON stats before and after, and their logs (the read's time and the
#    repair are in them).
#
# Environment: CONV_SIZES (default "100000 1000000"), CONV_EXTRAS (20),
# CONV_BUCKETS (16: what one round repairs at most), CONV_UDP_TIMEOUT
# (02:00:00), CONV_IDLE_S (120), CONV_WAIT_S (1800: a million sessions are read twice).
# Results in $E2E_OUT/convergence: runs.jsonl (one JSON object per size),
# machine.txt, and per size N: N.j1.stderr, N.j2.stderr, N.*.json (stats),
# N.*.jool-stats.csv.

source "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"
readonly BENCH_DIR=$E2E_OUT/convergence

readonly SIZES=${CONV_SIZES:-100000 1000000}
readonly EXTRAS=${CONV_EXTRAS:-20}
readonly BUCKETS=${CONV_BUCKETS:-16}
readonly UDP_TIMEOUT=${CONV_UDP_TIMEOUT:-02:00:00}
readonly IDLE_S=${CONV_IDLE_S:-120}
readonly WAIT_S=${CONV_WAIT_S:-1800}
readonly CONTROL_PORT=$((E2E_SYNC_PORT + 1))
# src/sync/convergence_round.ts: a daemon takes part in at most one round per
# 120 s, whatever starts it receives; 10 s to spare.
readonly ROUND_GAP_S=130

# conv_timeout_ms HH:MM:SS: milliseconds.
conv_timeout_ms() {
  IFS=: read -r h m s <<<"$1"
  awk -v h="$h" -v m="$m" -v s="$s" 'BEGIN { printf "%d\n", ((h * 60 + m) * 60 + s) * 1000 }'
}

# conv_port_filters NODE: counters of NODE's sync-link datagrams by port
# (tc flower on sync0's egress); false if the guest's kernel lacks them.
conv_port_filters() {
  local port
  tc -n "$1" qdisc add dev sync0 clsact 2>/dev/null || return 1
  for port in "$CONTROL_PORT" "$E2E_SYNC_PORT"; do
    tc -n "$1" filter add dev sync0 egress protocol ipv6 flower ip_proto udp dst_port "$port" \
      action pass 2>/dev/null || return 1
  done
}

# conv_port_counts NODE: {"control":{"bytes","packets"},"sync":{...}} NODE
# has sent so far (Ethernet frames), or null without the filters.
conv_port_counts() {
  tc -n "$1" -s -j filter show dev sync0 egress 2>/dev/null | jq -c --argjson control "$CONTROL_PORT" '
    [.[] | select(.options.keys.dst_port? != null) |
      { key: (if .options.keys.dst_port == $control then "control" else "sync" end),
        value: { bytes: .options.actions[0].stats.bytes, packets: .options.actions[0].stats.packets } }]
    | if length == 2 and all(.[]; .value.bytes != null) then from_entries else null end' \
    2>/dev/null || echo null
}

# conv_node_json NODE: what NODE's daemon and link show now, as JSON.
conv_node_json() {
  local user system rss hwm bytes packets
  read -r user system rss hwm _ <<<"$(bench_proc "$1")"
  read -r bytes packets <<<"$(bench_wire "$1")"
  echo "{\"userSeconds\":$user,\"systemSeconds\":$system,\"rssKiB\":$rss,\"hwmKiB\":$hwm,\"sessions\":$(bench_sessions "$1"),\"wire\":{\"bytes\":$bytes,\"packets\":$packets},\"ports\":$(conv_port_counts "$1")}"
}

# conv_inject NODE FIRST COUNT [BUCKETS]: the injector's JSON line.
conv_inject() {
  run_deno_tool "$1" bench/session_injector.ts --first-index "$2" --count "$3" \
    --expiration-ms "$EXPIRATION_MS" ${4:+--buckets "$4"}
}

# conv_repaired NODE ROUND: has NODE's daemon logged its repair of ROUND?
conv_repaired() {
  grep -q "Convergence round $2: .* buckets differed" "$E2E_OUT/daemons/$1.stderr"
}

# conv_rounds NODE: the rounds NODE's daemon took part in (its JSON stats).
conv_rounds() {
  echo json | ip netns exec "$1" nc -u -w1 ::1 "$STATS_PORT" 2>/dev/null |
    jq '.counters.convergenceRounds' 2>/dev/null
}

# conv_run N: one size, appended to runs.jsonl.
conv_run() {
  local n=$1 node first_round inject_s pid1 pid2 inject1 inject2 extras rounds before1 before2
  local sent round start_ms complete=null deadline count
  e2e_log "convergence $n: fresh instances, daemons"
  bench_reset_instances
  for node in "${E2E_NODES[@]}"; do
    jool_in "$node" global update udp-timeout "$UDP_TIMEOUT" || e2e_die "cannot set udp-timeout"
  done
  E2E_OURS_OPTIONS="--log-level debug" bench_start ours
  # Their own first round (90 s after start) on the empty tables, before any
  # session: a round that read a half-filled table would repair part of it.
  deadline=$((SECONDS + 150))
  until [ "$(conv_rounds j1)" = 1 ] && [ "$(conv_rounds j2)" = 1 ]; do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the daemons made no first round within 150 s"
    sleep 1
  done
  first_round=$SECONDS
  e2e_log "convergence $n: injecting $n sessions into j1 and j2, $EXTRAS more into j1"
  conv_inject j1 0 "$n" >"$BENCH_DIR/$n.j1.inject.json" &
  pid1=$!
  conv_inject j2 0 "$n" >"$BENCH_DIR/$n.j2.inject.json" &
  pid2=$!
  wait "$pid1" || e2e_die "injecting into j1 failed: $(cat "$BENCH_DIR/$n.j1.inject.json")"
  wait "$pid2" || e2e_die "injecting into j2 failed: $(cat "$BENCH_DIR/$n.j2.inject.json")"
  extras=$(conv_inject j1 "$n" "$EXTRAS" "$BUCKETS") || e2e_die "injecting the extras failed"
  inject_s=$((SECONDS - first_round))
  inject1=$(cat "$BENCH_DIR/$n.j1.inject.json")
  inject2=$(cat "$BENCH_DIR/$n.j2.inject.json")
  e2e_log "convergence $n: j1 $(bench_sessions j1), j2 $(bench_sessions j2) sessions;" \
    "injected in $inject_s s"
  while [ $((SECONDS - first_round)) -lt "$ROUND_GAP_S" ]; do sleep 1; done
  # A daemon's own second round comes 10-11 min after its first: if the
  # injection outlasted that, wait out its 2 minutes too.
  rounds=$(conv_rounds j1)
  if [ "$rounds" != 1 ]; then
    e2e_log "convergence $n: the daemons made $rounds rounds already; waiting $ROUND_GAP_S s"
    sleep "$ROUND_GAP_S"
  fi
  bench_stats_json j1 "$n.j1.before"
  bench_stats_json j2 "$n.j2.before"
  before1=$(conv_node_json j1)
  before2=$(conv_node_json j2)
  read -r round start_ms <<<"$(run_deno_tool starter bench/round_start.ts --port "$CONTROL_PORT")"
  [ -n "$start_ms" ] || e2e_die "the round's start was not sent"
  e2e_log "convergence $n: round $round started"
  deadline=$((SECONDS + WAIT_S))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$complete" = null ]; then
      count=$(bench_sessions j2)
      [ "$count" -ge $((n + EXTRAS)) ] && complete=$(date +%s%3N)
    fi
    [ "$complete" != null ] && conv_repaired j1 "$round" && conv_repaired j2 "$round" && break
    sleep 0.5
  done
  sent="{\"j1\":$(conv_node_json j1),\"j2\":$(conv_node_json j2)}"
  bench_stats_json j1 "$n.j1.after"
  bench_stats_json j2 "$n.j2.after"
  for node in "${E2E_NODES[@]}"; do
    jool_in "$node" stats display --all --csv >"$BENCH_DIR/$n.$node.jool-stats.csv"
  done
  e2e_log "convergence $n: j2 complete at ${complete} (start $start_ms);" \
    "j1 $(bench_sessions j1), j2 $(bench_sessions j2) sessions"
  cat >>"$BENCH_DIR/runs.jsonl" <<JSON
{"sessions":$n,"extras":$EXTRAS,"buckets":$BUCKETS,"udpTimeout":"$UDP_TIMEOUT","idleSeconds":$IDLE_S,"injectSeconds":$inject_s,"roundsBefore":${rounds:-null},"round":"$round","startMs":$start_ms,"j2CompleteMs":$complete,"inject":{"j1":$inject1,"j2":$inject2,"extras":$extras},"before":{"j1":$before1,"j2":$before2},"after":$sent,"stats":{"j1":{"before":$(cat "$BENCH_DIR/$n.j1.before.json"),"after":$(cat "$BENCH_DIR/$n.j1.after.json")},"j2":{"before":$(cat "$BENCH_DIR/$n.j2.before.json"),"after":$(cat "$BENCH_DIR/$n.j2.after.json")}}}
JSON
  daemons_stop
  for node in "${E2E_NODES[@]}"; do
    cp "$E2E_OUT/daemons/$node.stderr" "$BENCH_DIR/$n.$node.stderr"
  done
}

mkdir -p "$BENCH_DIR"
: >"$BENCH_DIR/runs.jsonl"
topo_setup 2
topo_add_sync_host starter 9
bench_guest_setup
EXPIRATION_MS=$(($(conv_timeout_ms "$UDP_TIMEOUT") - IDLE_S * 1000))
readonly EXPIRATION_MS
modprobe -q cls_flower 2>/dev/null
modprobe -q sch_ingress 2>/dev/null
for node in "${E2E_NODES[@]}"; do
  conv_port_filters "$node" || e2e_log "no tc flower counters on $node: per-port bytes derived"
done
# Deno's cache, before two injectors fill it at once.
bench_reset_instances
conv_inject j1 0 0 >/dev/null || e2e_die "the injector does not run"
for n in $SIZES; do
  conv_run "$n"
done
e2e_finish
