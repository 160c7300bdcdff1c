#!/usr/bin/env bash
# The session-sync benchmark, INSIDE the VM (scripts/bench_sync.ts boots it):
# two NAT64 nodes from tests/e2e/lib/topology.sh, a daemon on each (ours or
# Jool's C joold, over IPv6 multicast), bench/load_generator.ts creating new
# UDP sessions through j1 at a set rate, and then: how many reached j2, when
# j2 stopped growing, and what the daemons cost.
#
# Environment:
#   BENCH_RUNS    space-separated KIND:COUNT:RATE[:MAX_PAYLOAD] (KIND ours,
#                 ours-auth (ours with "auth key file": every datagram
#                 sealed), ours-off and ours-auth-off (the same with
#                 "reliable delivery": false) or reference; RATE 0 = as fast
#                 as the generator can;
#                 MAX_PAYLOAD: ours gets it as "ss max payload" (1452: ours
#                 leaves Jool's default alone), the C joold's nodes get
#                 ss-max-payload set by hand), run in this order
#   BENCH_MEMORY  STEP:TOTAL:RATE (e.g. 10000:100000:6700): one more run with
#                 ours, sampling both daemons' memory every STEP sessions up
#                 to TOTAL; empty to skip
#   BENCH_SETTLE  seconds j2 must stay unchanged to count as settled when it
#                 holds fewer sessions than j1 (6)
#   BENCH_SETTLE_RELIABLE  the same for ours with reliable delivery (40): it
#                 repairs what the kernel dropped by offering its table, at
#                 most once per 30 s, so a shorter window ends the run before
#                 the repair
#   BENCH_DENO_LOCAL  1 (default): run Deno from a copy in the guest's memory
#                 rather than over the 9p share; 0: from the share
#   BENCH_BURST   packets the generator may send per sendmmsg(2) when it has
#                 fallen behind (1: one system call per packet)
#   BENCH_OURS_ARGS  extra modsocket members for ours (JSON, e.g.
#                 '"ss max payload": false'), to measure without a tuning
#   BENCH_STARTUP N: before the runs, N times each: exec to ready of ours and
#                 of the C joold on j1 (its sync port bound), and Deno's own
#                 start-up with the shipped flags (an empty program) as the
#                 floor; into startup.jsonl. 0 or empty to skip
#   BENCH_LOSS    percent of the datagrams tc netem drops on every port of
#                 the sync bridge (each node's sync traffic, both ways), for
#                 every run, warm-up included; empty or 0: none
#   BENCH_V8_FLAGS   V8 flags for ours, %n standing for the node, e.g.
#                 --prof,--no-logfile-per-isolate,--logfile=$OUT/bench/%n.v8.log
#                 (then: node --prof-process FILE)
# Results in $E2E_OUT/bench: runs.jsonl (one JSON object per run), startup.jsonl,
# memory.jsonl (one per memory sample), and per run the daemons' stderr and
# JSON stats and j1's Jool counters.

source "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"
readonly BENCH_DIR=$E2E_OUT/bench

# bench_rollup NODE: "rss_kib anon_kib" of the daemon in NODE from
# /proc/PID/smaps_rollup, which walks the page tables. VmRSS in
# /proc/PID/status is cheaper but, on Linux 6.1, each thread caches up to 64
# page faults of its counts (256 KiB): with Deno's dozen threads, megabytes.
bench_rollup() {
  awk '$1 == "Rss:" { rss = $2 } $1 == "Anonymous:" { anon = $2 }
    END { printf "%d %d\n", rss, anon }' "/proc/$(daemon_pid "$1")/smaps_rollup"
}

# bench_threads NODE: a JSON object of CPU seconds per thread name of the
# daemon in NODE (which part of the runtime does the work).
bench_threads() {
  local pid
  pid=$(daemon_pid "$1")
  for task in /proc/"$pid"/task/*; do
    printf '%s\t%s\n' "$(cat "$task/comm")" "$(sed 's/^.*) //' "$task/stat" | cut -d' ' -f12,13)"
  done | awk -F'\t' -v tck="$CLK_TCK" '
    { split($2, t, " "); cpu[$1] += (t[1] + t[2]) / tck }
    END { sep = ""; printf "{"; for (n in cpu) { printf "%s\"%s\":%.2f", sep, n, cpu[n]; sep = "," } printf "}" }'
}

# bench_jstat NAME NODE COUNTER: COUNTER of run NAME's Jool stats on NODE, null if absent.
bench_jstat() {
  awk -F, -v c="$3" '$1 == c { n = $2 } END { print (n == "" ? "null" : n) }' \
    "$BENCH_DIR/$1.$2.jool-stats.csv"
}

# bench_ready_ms NODE PORT: waits (10 ms steps, at most 60 s) until NODE binds
# UDP PORT; prints the milliseconds since BENCH_T0_US.
bench_ready_ms() {
  local deadline=$((SECONDS + 60))
  until udp_port_bound "$1" "$2"; do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the daemon in $1 did not bind $2"
    sleep 0.01
  done
  echo $(((${EPOCHREALTIME/./} - BENCH_T0_US) / 1000))
}

# bench_startup N: exec-to-ready of each daemon and Deno's floor, N times each.
bench_startup() {
  local i net=$E2E_OUT/config/j1.netsocket.json mod=$E2E_OUT/config/j1.modsocket.json ours ref floor
  bench_reset_instances
  netsocket_write j1 6 "$net"
  modsocket_write "$mod"
  echo 'Deno.exit(0);' >/tmp/empty.js
  e2e_ours_flags
  for ((i = 0; i < $1; i++)); do
    BENCH_T0_US=${EPOCHREALTIME/./}
    ip netns exec j1 env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
      "$E2E_DENO" run "${E2E_FLAGS[@]}" --no-config /tmp/empty.js
    floor=$(((${EPOCHREALTIME/./} - BENCH_T0_US) / 1000))
    BENCH_T0_US=${EPOCHREALTIME/./}
    start_ours j1 "$net" "$mod"
    ours=$(bench_ready_ms j1 "$E2E_SYNC_PORT")
    daemons_stop
    BENCH_T0_US=${EPOCHREALTIME/./}
    start_reference j1 "$net" "$mod"
    ref=$(bench_ready_ms j1 "$E2E_SYNC_PORT")
    daemons_stop
    e2e_log "start-up $i: ours ${ours} ms, C joold ${ref} ms, Deno floor ${floor} ms"
    echo "{\"oursMs\":$ours,\"referenceMs\":$ref,\"denoFloorMs\":$floor}" >>"$BENCH_DIR/startup.jsonl"
  done
}

# bench_udp6 NODE: "delivered dropped" IPv6 UDP datagrams of NODE so far
# (dropped: the receiving socket's buffer was full).
bench_udp6() {
  ip netns exec "$1" awk '$1 == "Udp6InDatagrams" { d = $2 } $1 == "Udp6RcvbufErrors" { e = $2 }
    END { print d + 0, e + 0 }' /proc/net/snmp6
}

# bench_generate COUNT RATE FIRST_INDEX: sessions FIRST_INDEX.. through j1
# (each index its own source address and port: different indexes, different
# sessions); prints the generator's JSON line.
bench_generate() {
  local count=$1 rate=$2 first=$3
  bench_deno c1 bench/load_generator.ts --count "$count" --rate "$rate" --first-index "$first" \
    --source 2001:db8:1::1000 --destination 64:ff9b::c000:202 --port 7777 --first-port 10000 \
    --ports-per-address 50000 --burst "${BENCH_BURST:-1}"
}

# bench_settle [QUIET]: polls j2 until it holds as many sessions as j1, or its
# count has not changed for QUIET seconds (BENCH_SETTLE; or 120 s pass); prints "count
# last_growth_epoch". The window must outlast the kernel's own delays: from
# Jool 4.1.11 the last batch of a burst (fewer than 36 sessions) waits for
# ss-flush-deadline (2 s), checked by a timer every 2 s, so it can arrive 4 s
# after the one before it; a 3 s window counted such sessions as lost.
bench_settle() {
  local settle=${1:-${BENCH_SETTLE:-6}} last=-1 count changed now deadline
  changed=$(date +%s.%N)
  deadline=$((SECONDS + 120))
  while :; do
    count=$(bench_sessions j2)
    now=$(date +%s.%N)
    if [ "$count" != "$last" ]; then
      last=$count
      changed=$now
      [ "$count" -ge "$(bench_sessions j1)" ] && break
    elif awk -v a="$now" -v b="$changed" -v s="$settle" 'BEGIN { exit !(a - b >= s) }'; then
      break
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.25
  done
  echo "$last $changed"
}

# bench_run KIND COUNT RATE [MAX_PAYLOAD]: one measured run, appended to
# runs.jsonl. The daemons first relay BENCH_WARMUP sessions at a gentle rate
# (a daemon that has been running a while, as in production; it also gives a
# JIT its steady state), then the measured burst; counts are what the burst
# added.
bench_run() {
  # Numbered: the same run may be repeated, and each keeps its own files.
  BENCH_RUN_INDEX=$((${BENCH_RUN_INDEX:-0} + 1))
  local kind=$1 count=$2 rate=$3 max_payload=${4:-}
  local name=$BENCH_RUN_INDEX-$1-$2-$3${4:+-$4}
  local warmup=${BENCH_WARMUP:-3000}
  local u1 s1 u2 s2 eu1 es1 eu2 es2 hwm1 hwm2 rss1 rss2 udp_before udp_after gen start
  local drops_before drops_after threads1 threads2
  local base1 base2 j1 j2 settled node payload capacity enospc missing_ack j1_sent j2_received
  local wire1_bytes wire1_packets wire2_bytes wire2_packets ew1_bytes ew1_packets ew2_bytes ew2_packets
  local quiet=${BENCH_SETTLE:-6}
  case $kind in ours | ours-auth) quiet=${BENCH_SETTLE_RELIABLE:-40} ;; esac
  e2e_log "run $name: reset"
  if [ "$kind" = reference ]; then
    bench_reset_instances "$max_payload"
    bench_start "$kind"
  else
    bench_reset_instances
    bench_start "$kind" "$max_payload"
  fi
  if [ "$warmup" -gt 0 ]; then
    bench_generate "$warmup" 2000 100000 >/dev/null || e2e_die "the warm-up failed"
    bench_settle "$quiet" >/dev/null
  fi
  base1=$(bench_sessions j1)
  base2=$(bench_sessions j2)
  payload=$(jool_in j1 global display | awk '$1 == "ss-max-payload:" { print $2 }')
  capacity=$(jool_in j1 global display | awk '$1 == "ss-capacity:" { print $2 }')
  read -r u1 s1 _ <<<"$(bench_proc j1)"
  read -r u2 s2 _ <<<"$(bench_proc j2)"
  threads1=$(bench_threads j1)
  threads2=$(bench_threads j2)
  read -r udp_before drops_before <<<"$(bench_udp6 j2)"
  read -r wire1_bytes wire1_packets <<<"$(bench_wire j1)"
  read -r wire2_bytes wire2_packets <<<"$(bench_wire j2)"
  start=$(date +%s.%N)
  e2e_log "run $name: generating (after $base1 warm-up sessions, $base2 on j2)"
  gen=$(bench_generate "$count" "$rate" 0) || e2e_die "the load generator failed: $gen"
  read -r j2 settled <<<"$(bench_settle "$quiet")"
  j1=$(bench_sessions j1)
  read -r udp_after drops_after <<<"$(bench_udp6 j2)"
  read -r ew1_bytes ew1_packets <<<"$(bench_wire j1)"
  read -r ew2_bytes ew2_packets <<<"$(bench_wire j2)"
  read -r eu1 es1 rss1 hwm1 _ <<<"$(bench_proc j1)"
  read -r eu2 es2 rss2 hwm2 _ <<<"$(bench_proc j2)"
  bench_stats_json j1 "$name.j1"
  bench_stats_json j2 "$name.j2"
  jool_in j1 stats display --all --csv >"$BENCH_DIR/$name.j1.jool-stats.csv"
  jool_in j2 stats display --all --csv >"$BENCH_DIR/$name.j2.jool-stats.csv"
  # The kernel's own account of lost sessions (4.1.11+; 4.1.9 has no such counters).
  enospc=$(bench_jstat "$name" j1 JSTAT_JOOLD_SSS_ENOSPC)
  missing_ack=$(bench_jstat "$name" j1 JSTAT_JOOLD_MISSING_ACK)
  j1_sent=$(bench_jstat "$name" j1 JSTAT_JOOLD_SSS_SENT)
  j2_received=$(bench_jstat "$name" j2 JSTAT_JOOLD_SSS_RCVD)
  e2e_log "run $name: j1 +$((j1 - base1)), j2 +$((j2 - base2)) sessions; generator $gen"
  cat >>"$BENCH_DIR/runs.jsonl" <<JSON
{"kind":"$kind","count":$count,"rate":$rate,"maxPayload":${payload:-null},"capacity":${capacity:-null},"enospc":$enospc,"missingAck":$missing_ack,"j1KernelSent":$j1_sent,"j2KernelReceived":$j2_received,"warmup":$warmup,"generator":$gen,"startEpoch":$start,"settledEpoch":$settled,"j1Created":$((j1 - base1)),"j2Synced":$((j2 - base2)),"loss":${BENCH_LOSS:-0},"datagrams":$((udp_after - udp_before)),"j1Wire":{"bytes":$((ew1_bytes - wire1_bytes)),"packets":$((ew1_packets - wire1_packets))},"j2Wire":{"bytes":$((ew2_bytes - wire2_bytes)),"packets":$((ew2_packets - wire2_packets))},"j2SocketDrops":$((drops_after - drops_before)),"j1":{"userSeconds":$(bench_delta "$u1" "$eu1"),"systemSeconds":$(bench_delta "$s1" "$es1"),"rssKiB":$rss1,"hwmKiB":$hwm1,"threadsBefore":$threads1,"threads":$(bench_threads j1),"stats":$(cat "$BENCH_DIR/$name.j1.json")},"j2":{"userSeconds":$(bench_delta "$u2" "$eu2"),"systemSeconds":$(bench_delta "$s2" "$es2"),"rssKiB":$rss2,"hwmKiB":$hwm2,"threadsBefore":$threads2,"threads":$(bench_threads j2),"stats":$(cat "$BENCH_DIR/$name.j2.json")}}
JSON
  daemons_stop
  for node in "${E2E_NODES[@]}"; do
    cp "$E2E_OUT/daemons/$node.stderr" "$BENCH_DIR/$name.$node.stderr" 2>/dev/null
  done
}

# bench_memory STEP TOTAL RATE: ours relays STEP sessions at a time up to
# TOTAL; both daemons' memory is sampled after each step has settled (RSS
# and anonymous memory from smaps_rollup, "file" from status).
bench_memory() {
  local step=$1 total=$2 rate=$3 done=0 count j1 j2 settled rss1 hwm1 rss2 hwm2 gen
  local u1 s1 u2 s2 anon1 file1 anon2 file2
  e2e_log "memory run: reset"
  bench_reset_instances
  bench_start ours
  while [ "$done" -lt "$total" ]; do
    count=$((total - done < step ? total - done : step))
    gen=$(bench_generate "$count" "$rate" "$done") || e2e_die "the load generator failed: $gen"
    done=$((done + count))
    read -r j2 settled <<<"$(bench_settle)"
    j1=$(bench_sessions j1)
    read -r u1 s1 rss1 hwm1 anon1 file1 <<<"$(bench_proc j1)"
    read -r u2 s2 rss2 hwm2 anon2 file2 <<<"$(bench_proc j2)"
    bench_stats_json j1 "memory-$done.j1"
    bench_stats_json j2 "memory-$done.j2"
    # Measured after the stats queries, so that every sample, the first
    # included, comes after the daemon has run that code too.
    read -r rss1 anon1 <<<"$(bench_rollup j1)"
    read -r rss2 anon2 <<<"$(bench_rollup j2)"
    cp "/proc/$(daemon_pid j1)/smaps" "$BENCH_DIR/memory-$done.j1.smaps"
    e2e_log "memory run: $done sent, j1 $j1, j2 $j2; RSS j1 ${rss1} KiB, j2 ${rss2} KiB"
    cat >>"$BENCH_DIR/memory.jsonl" <<JSON
{"created":$done,"j1Sessions":$j1,"j2Sessions":$j2,"generator":$gen,"j1":{"userSeconds":$u1,"systemSeconds":$s1,"rssKiB":$rss1,"hwmKiB":$hwm1,"anonKiB":$anon1,"fileKiB":$file1,"stats":$(cat "$BENCH_DIR/memory-$done.j1.json")},"j2":{"userSeconds":$u2,"systemSeconds":$s2,"rssKiB":$rss2,"hwmKiB":$hwm2,"anonKiB":$anon2,"fileKiB":$file2,"stats":$(cat "$BENCH_DIR/memory-$done.j2.json")}}
JSON
  done
  jool_in j1 stats display --csv >"$BENCH_DIR/memory.j1.jool-stats.csv"
  daemons_stop
}

mkdir -p "$BENCH_DIR"
: >"$BENCH_DIR/runs.jsonl"
: >"$BENCH_DIR/memory.jsonl"
: >"$BENCH_DIR/startup.jsonl"
topo_setup 2
bench_guest_setup
if [ "${BENCH_LOSS:-0}" != 0 ]; then
  modprobe sch_netem || e2e_die "no sch_netem"
  for node in "${E2E_NODES[@]}"; do
    tc -n sync qdisc add dev "port${node#j}" root netem loss "$BENCH_LOSS%" ||
      e2e_die "cannot add netem on $node's port"
  done
fi
# Warm the generator (Deno's cache, neighbour discovery) outside any run.
bench_generate 10 0 0 >/dev/null
if [ "${BENCH_STARTUP:-0}" -gt 0 ]; then
  bench_startup "$BENCH_STARTUP"
fi
for spec in ${BENCH_RUNS:-ours:30000:6700 reference:30000:6700}; do
  IFS=: read -r kind count rate max_payload <<<"$spec"
  bench_run "$kind" "$count" "$rate" "$max_payload"
done
if [ -n "${BENCH_MEMORY:-}" ]; then
  IFS=: read -r step total rate <<<"$BENCH_MEMORY"
  bench_memory "$step" "$total" "${rate:-6700}"
fi
grep -c 'joold' /tmp/syslog.log >"$BENCH_DIR/syslog-lines.txt" 2>/dev/null
e2e_finish
