#!/usr/bin/env bash
# cold-resync: j1's kernel holds 1,000 UDP sessions (one datagram from each
# of 1,000 source ports of its client) before any daemon runs. Then this
# project's joold starts on j1, and after it on j2, a node with no sessions:
# j2 must get all of j1's sessions through the resync exchange alone (j1
# answers j2's request: JOOLD_ADVERTISE from Jool 4.1.11, its own reading of
# the table before). Both daemons run as shipped: the version j1 needs to
# choose is read without the permissions Deno wants for /sys.
#
# Leaves in resync/: j2.timeline, result (see resync_watch), jool.version,
# kernel.before and kernel.after (Jool's error and warning lines of the
# kernel log), and the daemons' JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 sessions=1000 watch_s=8
topo_setup 2
out=$E2E_OUT/resync
mkdir -p "$out"
cat /sys/module/jool/version >"$out/jool.version" 2>/dev/null

traffic_udp_fill j1 "$sessions"
e2e_log "j1 has $(session_count j1 udp) UDP sessions before any daemon runs"
# With no daemon listening, Jool 4.1.9 warns "Looks like nobody received my
# multicast message": expected here, so the kernel log is compared from now.
jool_kernel_problems >"$out/kernel.before"

node_start_daemon j1 ours 6 "$stats_port"
daemon_wait_ready j1 30 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "the daemon in j1 did not start"
# Whatever j1's kernel still had queued from before has gone out by now.
sleep 1
stats_json j1 "$stats_port" j1.before

resync_join_and_finish "$stats_port" "$watch_s" "$out"
