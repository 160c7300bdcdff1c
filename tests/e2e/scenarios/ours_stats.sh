#!/usr/bin/env bash
# ours-stats: two of this project's joold with a stats port; traffic through
# j1 only; each daemon's counters are then asked for over IPv4 and IPv6 into
# stats/NODE.ipv4.txt and stats/NODE.ipv6.txt (the reference's six lines),
# and as JSON into stats/NODE.json; j1 also serves Prometheus metrics over
# HTTP, fetched over IPv4 and IPv6 into stats/j1.metrics.ipv4 and .ipv6.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 metrics_port=9464
topo_setup 2
E2E_OURS_OPTIONS="--metrics-port $metrics_port" node_start_daemon j1 ours 6 "$stats_port"
node_start_daemon j2 ours 6 "$stats_port"
for node in j1 j2; do
  daemon_wait_ready "$node" 30 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done
traffic_all j1
sessions_wait_sync 15
# The sessions are there, but later batches (TCP state changes) may still be
# on their way; counters must be read once everything has landed. From Jool
# 4.1.11 on, a batch of fewer than 36 sessions waits for ss-flush-deadline (2 s).
stats_wait_quiet j1 "$stats_port" 10
for node in j1 j2; do
  stats_query "$node" "$stats_port"
  stats_json "$node" "$stats_port" "$node"
done
# SIGHUP is caught (the daemon says it does not reload) and SIGQUIT stops it
# cleanly, like SIGTERM (the check wants status 0).
kill -HUP "$(daemon_pid j2)"
sleep 0.5
ip netns exec j1 curl -sS --max-time 5 "http://198.51.100.1:$metrics_port/metrics" \
  >"$E2E_OUT/stats/j1.metrics.ipv4" 2>&1
ip netns exec j1 curl -sS --max-time 5 "http://[2001:db8:ff08::1]:$metrics_port/metrics" \
  >"$E2E_OUT/stats/j1.metrics.ipv6" 2>&1
sessions_dump
kill -QUIT "$(daemon_pid j1)"
daemon_wait_exit j1 10 || e2e_log "j1's daemon did not stop on SIGQUIT"
e2e_finish
