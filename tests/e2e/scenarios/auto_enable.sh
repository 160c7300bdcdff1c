#!/usr/bin/env bash
# auto-enable: the instances are built without any `jool global update
# ss-enabled` (Jool's default is off). This project's joold on both nodes,
# with the default modsocket file ("enable ss" true), must turn it on and say
# so; then sessions created through either node reach the other. What
# `jool global display` says of ss-enabled before and after the daemons start
# is in ss/NODE.before and ss/NODE.after.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
E2E_SET_SS_ENABLED=0
topo_setup 2
mkdir -p "$E2E_OUT/ss"
for node in j1 j2; do
  jool_global "$node" ss-enabled >"$E2E_OUT/ss/$node.before"
done
for node in j1 j2; do
  node_start_daemon "$node" ours 6
done
for node in j1 j2; do
  daemon_wait_ready "$node" 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in $node did not start"
done
for node in j1 j2; do
  jool_global "$node" ss-enabled >"$E2E_OUT/ss/$node.after"
done
traffic_all j1
traffic_all j2
sessions_wait_sync 15
sessions_dump
e2e_finish
