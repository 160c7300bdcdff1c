#!/usr/bin/env bash
# The exposure-window benchmark, INSIDE the VM (scripts/bench_window.ts boots
# it): how long after a session is created on node 1 it exists on node 2.
# Two nodes from tests/e2e/lib/topology.sh, a daemon on each (ours or Jool's
# C joold, over IPv6 multicast). For each round of WINDOW_KINDS:
#   quiet  WINDOW_QUIET_COUNT flows, one every WINDOW_QUIET_INTERVAL_MS ms
#   burst  WINDOW_BURST_COUNT flows at once
# through j1 (bench/window_probe.ts logs each one's creation time), while j2's
# UDP sessions are listed WINDOW_POLL_MS ms after the previous listing ended
# (bench/window_watch.ts); a session's "seen" time is the end of the first
# listing that had it.
#
# Results in $E2E_OUT/window/RUN (RUN = ROUND-KIND-PHASE): created.txt
# ("EPOCH_MS SOURCE_PORT"), seen.txt ("EPOCH_MS SOURCE_PORT"), polls.txt
# ("START_MS END_MS" per listing), stats-before.txt and stats-after.txt (j1's
# `jool stats display --all`: why its batches left); and kinds.txt, jool.txt
# (j1's globals before the daemons).

source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib/topology.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib/failover.sh"

readonly KINDS=${WINDOW_KINDS:-reference ours reference ours}
readonly QUIET_COUNT=${WINDOW_QUIET_COUNT:-30}
readonly QUIET_INTERVAL_MS=${WINDOW_QUIET_INTERVAL_MS:-300}
readonly BURST_COUNT=${WINDOW_BURST_COUNT:-300}
readonly POLL_MS=${WINDOW_POLL_MS:-10}
# After the last flow: the kernel's ss-flush-deadline (2 s) and its 2 s timer, and more.
readonly SETTLE_S=${WINDOW_SETTLE_S:-6}
readonly DIR=$E2E_OUT/window
readonly DESTINATION=64:ff9b::$E2E_SERVER4

# measure RUN FIRST_PORT COUNT INTERVAL_MS: bench/window_watch.ts lists j2's
# UDP sessions while bench/window_probe.ts opens the flows through j1.
measure() {
  local dir=$DIR/$1
  mkdir -p "$dir"
  session_watch_start j2 "$FAILOVER_CLIENT6" "$POLL_MS" "$dir"
  jool_in j1 stats display --all >"$dir/stats-before.txt"
  run_deno_tool c1 bench/window_probe.ts "$DESTINATION" "${E2E_UDP_PORTS[0]}" "$2" "$3" "$4" \
    >"$dir/created.txt" || e2e_die "the probe failed in $1"
  sleep "$SETTLE_S"
  jool_in j1 stats display --all >"$dir/stats-after.txt"
  kill -TERM "$WATCH_PID"
  wait "$WATCH_PID"
  e2e_log "$1: $(sessions_seen "$dir") of $3 sessions seen on j2," \
    "$(grep -c . "$dir/polls.txt") listings"
}

topo_setup 2
mkdir -p "$DIR"
jool_in j1 global display >"$DIR/jool.txt"
round=0
for kind in $KINDS; do
  round=$((round + 1))
  node_start_daemon j1 "$kind" 6
  node_start_daemon j2 "$kind" 6
  daemon_wait_ready j1 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j1 did not start"
  daemon_wait_ready j2 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j2 did not start"
  # Source ports per round, so that no listing mistakes one run's sessions for another's.
  measure "$round-$kind-quiet" $((10000 + round * 1000)) "$QUIET_COUNT" "$QUIET_INTERVAL_MS"
  measure "$round-$kind-burst" $((20000 + round * 1000)) "$BURST_COUNT" 0
  daemons_stop
  mkdir -p "$DIR/daemons-$round-$kind"
  cp "$E2E_OUT"/daemons/* "$DIR/daemons-$round-$kind/"
  rm -rf "$E2E_OUT/daemons"
  failover_instances_renew
done
echo "$KINDS" >"$DIR/kinds.txt"
e2e_finish
