#!/usr/bin/env bash
# resync-1000: j1 runs this project's joold and holds 1,000 UDP sessions
# (one datagram from each of 1,000 source ports of its client); j3 runs
# Jool's C joold on the same sync link from the start. Then this project's
# joold starts on j2, a node with no sessions, and must get all of j1's
# sessions through the resync exchange alone: nobody runs
# `jool session advertise`.
#
# Leaves in resync/: j2.timeline ("SECONDS_SINCE_READY UDP_SESSIONS" every
# 0.2 s), result (ready/complete times, counts), kernel.before and
# kernel.after (Jool's error and warning lines of the kernel log), and the
# daemons' JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 sessions=1000 watch_s=8
topo_setup 3
out=$E2E_OUT/resync
mkdir -p "$out"
cat /sys/module/jool/version >"$out/jool.version" 2>/dev/null
node_start_daemon j1 ours 6 "$stats_port"
node_start_daemon j3 reference 6
daemon_wait_ready j1 30 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "the daemon in j1 did not start"
daemon_wait_ready j3 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j3 did not start"
jool_kernel_problems >"$out/kernel.before"

traffic_udp_fill j1 "$sessions"
e2e_log "j1 has $(session_count j1 udp) UDP sessions"
# j1's live sync of those sessions (to j3) must be over before j2 appears.
sleep 1
stats_json j1 "$stats_port" j1.before

resync_join_and_finish "$stats_port" "$watch_s" "$out"
