#!/usr/bin/env bash
# error-instance: this project's joold on j1 names an instance ("ghost") that
# j1 lacks. It must exit non-zero with the kernel's message on stderr, whether
# it checks at start-up or only once it has sessions (from j2) to hand over.
# Jool's own tool asks the kernel the same, for the expected message, into
# errors/tool.*.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
topo_setup 2
mkdir -p "$E2E_OUT/errors"
jool_in j1 -i ghost session display --udp --numeric --csv \
  >"$E2E_OUT/errors/tool.stdout" 2>"$E2E_OUT/errors/tool.stderr"
echo "$?" >"$E2E_OUT/errors/tool.exit"

net=$E2E_OUT/config/j1.netsocket.json mod=$E2E_OUT/config/j1.modsocket.json
netsocket_write j1 6 "$net"
modsocket_write "$mod" ghost
start_ours j1 "$net" "$mod"
e2e_log "started ours joold in j1 for instance ghost"
node_start_daemon j2 reference 6
daemon_wait_ready j2 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j2 did not start"
if ! daemon_wait_exit j1 5; then
  traffic_all j2
  daemon_wait_exit j1 15
fi
e2e_finish
