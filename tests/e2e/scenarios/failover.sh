#!/usr/bin/env bash
# failover: live connections through a NAT64 router that dies. Two routers,
# j1 active and j2 standing by (tests/e2e/lib/failover.sh); for each pair of
# daemons (j1's:j2's, default: ours:ours reference:reference ours:reference
# none:none, or JOOLD_E2E_FAILOVER_CASES) a TCP connection that echoes a line
# every 150 ms, a UDP flow from one source port and a ping run from the client
# to the server (tests/e2e/lib/failover_flows.ts) while traffic moves to j2
# (j1's cables pulled) and back to j1. Before the failover j1 is busy: its
# client makes 10 new UDP sessions a second, and a second TCP connection, the
# young one, opens YOUNG_AGE_MS before j1 dies (its own server ports). Each
# case leaves failover/J1KIND-J2KIND/{timeline.txt,client.log,young.log,
# ping.log,background.txt,j2.at-failover.csv,daemons/}; the servers' logs are
# failover/server.log and failover/young-server.log. The checks
# (tests/e2e/families/failover.ts) say which cases must keep the connections
# (those with daemons; the young one with ours on both) and which must lose
# them (none:none).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/failover.sh"

readonly CASES=${JOOLD_E2E_FAILOVER_CASES:-ours:ours reference:reference ours:reference none:none}
readonly DESTINATION=64:ff9b::$E2E_SERVER4
readonly UDP_PORT=${E2E_UDP_PORTS[0]}
readonly YOUNG_TCP_PORT=$((E2E_TCP_PORT + 1))
readonly YOUNG_UDP_PORT=${E2E_UDP_PORTS[1]}
# Nothing listens there: each datagram only makes a new session on the way.
readonly BACKGROUND_PORT=9
readonly YOUNG_AGE_MS=300
readonly INTERVAL_MS=150
# Longer than any stall a surviving connection has (the routes take up to 2 s
# to move under TCG, then a retransmission or two), shorter than the time on
# j2: a lost connection times out while there.
readonly TIMEOUT_MS=4000
readonly ON_BACKUP_S=6
readonly BACK_S=2.5
readonly DIR=$E2E_OUT/failover

# pause SECONDS: sleeps without starting a process (under TCG, with the
# host busy, starting one costs up to hundreds of ms): a read that times out
# on a FIFO nobody writes to (opened read-write, so it never ends).
pause_fifo=$(mktemp -u /tmp/failover-pause.XXXXXX)
mkfifo "$pause_fifo"
exec {PAUSE_FD}<>"$pause_fifo"
rm -f "$pause_fifo"
pause() {
  read -r -t "$1" -u "$PAUSE_FD" _ || true
}

# young_wait_age LOG: returns YOUNG_AGE_MS after the young client's
# tcp-connected line (its own clock); starts no process while it waits.
young_wait_age() {
  local deadline=$((SECONDS + 30)) connected_ms="" ms event rest us rest_ms fraction
  while [ -z "$connected_ms" ]; do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the young client did not connect"
    pause 0.01
    [ -f "$1" ] || continue
    while read -r ms event rest; do
      if [ "$event" = tcp-connected ]; then
        connected_ms=$ms
        break
      fi
    done <"$1"
  done
  us=${EPOCHREALTIME/./}
  rest_ms=$((YOUNG_AGE_MS - (${us:0:-3} - connected_ms)))
  [ "$rest_ms" -gt 0 ] || return 0
  printf -v fraction '%03d' $((rest_ms % 1000))
  pause "$((rest_ms / 1000)).$fraction"
}

# stamp: each input line with the wall clock (ms) in front.
stamp() {
  local line us
  while IFS= read -r line; do
    us=${EPOCHREALTIME/./}
    echo "${us:0:-3} $line"
  done
}

# run_case J1KIND J2KIND INDEX
run_case() {
  local j1=$1 j2=$2 index=$3 case_dir=$DIR/$1-$2 client young background ping node kind
  mkdir -p "$case_dir"
  mark() { echo "$(failover_now_ms) $1" >>"$case_dir/timeline.txt"; }
  mark case-start
  node_start_daemon j1 "$j1" 6
  node_start_daemon j2 "$j2" 6
  for node in j1 j2; do
    kind=$j1
    [ "$node" = j2 ] && kind=$j2
    [ "$kind" = none ] && continue
    daemon_wait_ready "$node" 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in $node did not start"
  done
  flows_start c "$case_dir/client.log" client "$DESTINATION" "$E2E_TCP_PORT" "$UDP_PORT" \
    $((30000 + index)) "$INTERVAL_MS" "$TIMEOUT_MS"
  client=$FLOWS_PID
  wait_for_line "$case_dir/client.log" tcp-connected 30 || e2e_die "the client did not connect"
  mark flows-up
  ip netns exec c sh -c "echo \$\$ >'$case_dir/ping.pid'; exec busybox ping6 -i 0.2 '$DESTINATION'" \
    2>&1 | stamp >"$case_dir/ping.log" &
  ping=$!
  if [ "$j1" != none ] && [ "$j2" != none ]; then
    if failover_wait_synced j2 15; then mark synced; else mark not-synced; fi
  else
    sleep 3
  fi
  sleep 0.5
  # Listing j2's table takes ~0.7 s under TCG: before the young connection opens.
  jool_in j2 session display --tcp --numeric --csv >"$case_dir/j2.at-failover.csv"
  jool_in j2 session display --udp --numeric --csv --no-headers >>"$case_dir/j2.at-failover.csv"
  run_deno_tool c bench/window_probe.ts "$DESTINATION" "$BACKGROUND_PORT" \
    $((40000 + index * 1000)) 80 100 >"$case_dir/background.txt" &
  background=$!
  sleep 2
  flows_start c "$case_dir/young.log" client "$DESTINATION" "$YOUNG_TCP_PORT" "$YOUNG_UDP_PORT" \
    $((31000 + index)) "$INTERVAL_MS" "$TIMEOUT_MS"
  young=$FLOWS_PID
  young_wait_age "$case_dir/young.log"
  mark failover
  failover_move_to j2
  mark on-j2
  e2e_log "$j1:$j2: failed over to j2"
  sleep "$ON_BACKUP_S"
  mark failback
  failover_move_to j1
  mark on-j1
  e2e_log "$j1:$j2: failed back to j1"
  sleep "$BACK_S"
  mark case-end
  kill -TERM "$client" "$young"
  wait_for_line "$case_dir/client.log" ' end ' 10 || e2e_log "the client did not end"
  wait_for_line "$case_dir/young.log" ' end ' 10 || e2e_log "the young client did not end"
  wait "$background"
  kill "$(cat "$case_dir/ping.pid")" 2>/dev/null
  wait "$ping" 2>/dev/null
  daemons_stop
  cp -r "$E2E_OUT/daemons" "$case_dir/daemons"
  rm -rf "$E2E_OUT/daemons"
  failover_instances_renew
  e2e_log "$j1:$j2: done ($(grep -c tcp-echo "$case_dir/client.log") TCP echoes," \
    "$(grep -cE 'tcp-(timeout|reset)' "$case_dir/client.log") timeouts or resets; young:" \
    "$(grep -cE 'tcp-(timeout|reset)' "$case_dir/young.log") timeouts or resets)"
}

failover_setup
mkdir -p "$DIR"
flows_start s "$DIR/server.log" server "$E2E_TCP_PORT" "$UDP_PORT"
server=$FLOWS_PID
wait_for_line "$DIR/server.log" server-ready 30 || e2e_die "the flows' server did not start"
flows_start s "$DIR/young-server.log" server "$YOUNG_TCP_PORT" "$YOUNG_UDP_PORT"
young_server=$FLOWS_PID
wait_for_line "$DIR/young-server.log" server-ready 30 || e2e_die "the young server did not start"
index=0
for pair in $CASES; do
  index=$((index + 1))
  run_case "${pair%%:*}" "${pair##*:}" "$index"
done
echo "$CASES" >"$DIR/cases.txt"
kill "$server" "$young_server"
e2e_finish
