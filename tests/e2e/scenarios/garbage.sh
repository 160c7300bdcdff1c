#!/usr/bin/env bash
# garbage: this project's joold on j1 and j2; a bare namespace "g" on the
# sync link captures a valid session batch (traffic through j1) in the
# encoding of the loaded Jool version, then sends 1,000 invalid datagrams to
# the group and port: mutations of that batch and noise
# (tests/e2e/lib/garbage_datagrams.ts says why each is invalid in that
# encoding, and in any other, and checks it). j2's daemon must drop and count
# every one, keep running, log rate-limited drop lines naming g, and leave
# its kernel's sessions alone; then new sessions through j1 must still reach
# j2.
#
# Leaves in garbage/: jool.version (/sys/module/jool/version), base.bin (the
# captured batch), capture.txt, sent.json (what was sent, in which
# encoding), NODE.sessions.{before,after}, NODE.snmp6.{before,after},
# kernel.{before,after}, j2.running; JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 tool=tests/e2e/lib/garbage_datagrams.ts
topo_setup 2
topo_add_sync_host g 9
out=$E2E_OUT/garbage
mkdir -p "$out"
# The tool and the check both go by it: the kernel's encoding depends on it.
jool_version=$(cat /sys/module/jool/version) || e2e_die "no /sys/module/jool/version"
echo "$jool_version" >"$out/jool.version"
for node in j1 j2; do
  node_start_daemon "$node" ours 6 "$stats_port"
done
for node in j1 j2; do
  daemon_wait_ready "$node" 30 "$E2E_SYNC_PORT" "$stats_port" ||
    e2e_die "the daemon in $node did not start"
done

capture_valid_batch "$out" "$jool_version" traffic_all j1
# Later batches (TCP state changes) may still be on their way.
sleep 1

snapshot() {
  local node
  for node in j1 j2; do
    session_tuples "$node" >"$out/$node.sessions.$1"
    ip netns exec "$node" cat /proc/net/snmp6 >"$out/$node.snmp6.$1"
    stats_json "$node" "$stats_port" "$node.$1"
  done
  jool_kernel_problems >"$out/kernel.$1"
}
snapshot before
run_deno_tool g "$tool" send --base "$out/base.bin" --jool-version "$jool_version" \
  --count 1000 --report "$out/sent.json" >"$out/send.txt" 2>&1 ||
  e2e_die "sending the garbage failed: $(cat "$out/send.txt")"
e2e_log "$(cat "$out/send.txt")"
sleep 1
snapshot after
if daemon_exited j2; then echo no; else echo yes; fi >"$out/j2.running"

traffic_all j1
sessions_wait_sync 15
sessions_dump
e2e_finish
