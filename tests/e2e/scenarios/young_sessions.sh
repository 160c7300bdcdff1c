#!/usr/bin/env bash
# young-sessions: how young a session can be and still be on the peer. Two
# nodes (tests/e2e/lib/topology.sh); for each kind of daemon (default: ours,
# then the C joold; or JOOLD_E2E_YOUNG_KINDS), on both nodes: j1's client
# makes new UDP sessions at a steady 10 a second (a busy router's background),
# and meanwhile YOUNG_COUNT probe sessions 100 ms apart, while j2's UDP
# sessions are listed every few tens of ms (bench/window_watch.ts). Results in
# young/KIND/{created.txt,background.txt,seen.txt,polls.txt,daemons/}; the
# checks (tests/e2e/families/young.ts) want every probe on j2 within 1 s with
# ours and, where the kernel holds partial batches for ss-flush-deadline
# (Jool 4.1.13 and later), at least one probe later than that with the C joold.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/failover.sh"

readonly KINDS=${JOOLD_E2E_YOUNG_KINDS:-ours reference}
readonly YOUNG_COUNT=20
readonly DESTINATION=64:ff9b::$E2E_SERVER4
readonly DIR=$E2E_OUT/young

# measure KIND INDEX
measure() {
  local dir=$DIR/$1 background
  mkdir -p "$dir"
  node_start_daemon j1 "$1" 6
  node_start_daemon j2 "$1" 6
  daemon_wait_ready j1 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j1 did not start"
  daemon_wait_ready j2 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j2 did not start"
  session_watch_start j2 "$FAILOVER_CLIENT6" 10 "$dir"
  # Ports per kind, so that no listing mistakes one kind's sessions for the other's.
  run_deno_tool c1 bench/window_probe.ts "$DESTINATION" "${E2E_UDP_PORTS[0]}" \
    $((30000 + $2 * 1000)) 60 100 >"$dir/background.txt" &
  background=$!
  sleep 2
  run_deno_tool c1 bench/window_probe.ts "$DESTINATION" "${E2E_UDP_PORTS[0]}" \
    $((40000 + $2 * 1000)) "$YOUNG_COUNT" 100 >"$dir/created.txt" ||
    e2e_die "the probe failed ($1)"
  wait "$background"
  # The C joold's last partial batch leaves within ss-flush-deadline and the 2 s timer.
  sleep 6
  kill -TERM "$WATCH_PID"
  wait "$WATCH_PID"
  daemons_stop
  cp -r "$E2E_OUT/daemons" "$dir/daemons"
  rm -rf "$E2E_OUT/daemons"
  failover_instances_renew
  e2e_log "$1: $(sessions_seen "$dir") of $YOUNG_COUNT probes seen on j2"
}

topo_setup 2
mkdir -p "$DIR"
jool_in j1 global display >"$DIR/jool.txt"
index=0
for kind in $KINDS; do
  index=$((index + 1))
  measure "$kind" "$index"
done
echo "$KINDS" >"$DIR/kinds.txt"
e2e_finish
