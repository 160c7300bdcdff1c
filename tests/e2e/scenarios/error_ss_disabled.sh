#!/usr/bin/env bash
# error-ss-disabled: j1's instance has ss-enabled false and this project's
# joold there is told to leave it so ("enable ss": false; by default it would
# turn it on); it gets sessions from j2 (C joold) and must report the kernel's
# refusal on stderr without ending. Jool's own tool asks the kernel the same
# (joold advertise); it does not wait for the answer, so the kernel's message
# is taken from the kernel log into errors/tool.dmesg.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
topo_setup 2
mkdir -p "$E2E_OUT/errors"
jool_in j1 global update ss-enabled false || e2e_die "cannot disable session sync in j1"
jool_in j1 joold advertise >"$E2E_OUT/errors/tool.stdout" 2>"$E2E_OUT/errors/tool.stderr"
echo "$?" >"$E2E_OUT/errors/tool.exit"
sleep 0.2
dmesg | grep -F 'Jool error:' | tail -n 1 >"$E2E_OUT/errors/tool.dmesg"

net=$E2E_OUT/config/j1.netsocket.json mod=$E2E_OUT/config/j1.modsocket.json
netsocket_write j1 6 "$net"
modsocket_write "$mod" default '"enable ss": false'
start_ours j1 "$net" "$mod"
e2e_log "started ours joold in j1, told not to enable session sync"
node_start_daemon j2 reference 6
daemon_wait_ready j2 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j2 did not start"
daemon_wait_ready j1 30 "$E2E_SYNC_PORT"
traffic_all j2
# Time for j1's daemon to hand the sessions to its kernel and hear back.
sleep 2
e2e_finish
