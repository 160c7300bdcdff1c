#!/usr/bin/env bash
# faults-kernel: the kernel side of sync goes away under two of this
# project's joold, each run as joold@NODE.service would run it
# (tests/e2e/lib/unit_supervisor.sh with the shipped unit's Restart=,
# RestartSec= and RestartPreventExitStatus=; the daemon is the bundle with
# the executable's flags, ours_stand_in):
#   1. the Jool modules unloaded (rmmod jool jool_common) and loaded again
#      (this version's own .ko files); j1's instance re-created, then a
#      burst of UDP flows through j1 while j2 still has no instance; then
#      j2's instance re-created: j2's daemon must start and get the burst
#      by resync;
#   2. j2's instance removed; a burst through j1 while it is gone; the
#      instance added again: j2's daemon must come back and get the burst.
# Each daemon must exit (status 1) soon after its kernel side went away,
# and its supervisor start it again once it is back. Sessions from before
# the unload went with the module: traffic.csv starts afresh then
# (faults/traffic.before-unload.csv keeps the earlier flows).
#
# Leaves faults/events (UPTIME EVENT lines, in order), faults/NODE.caught_up
# (seconds from the daemon's restart until NODE held what j1 holds),
# units/NODE/runs, daemons/NODE.* (supervisor and daemon output).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 burst=${JOOLD_E2E_FAULTS_BURST:-1000}
topo_setup 2
out=$E2E_OUT/faults
mkdir -p "$out" /tmp/faults-bin /tmp/faults-units
: >"$out/events"

event() {
  echo "$(cut -d' ' -f1 /proc/uptime) $*" >>"$out/events"
  e2e_log "$*"
}

# This version's modules, as the VM loaded them at boot (scripts/vm/jool_version.sh).
jool_version=$(cat /sys/module/jool/version) || e2e_die "no /sys/module/jool/version"
modules=/var/tmp/joold-vm/jool-${jool_version%.0}/modules
[ -f "$modules/jool.ko" ] && [ -f "$modules/jool_common.ko" ] || e2e_die "no modules in $modules"
cp "$modules"/jool_common.ko "$modules"/jool.ko /tmp/faults-bin/

# The unit: the shipped template's restart policy; the daemon and its files from here.
ours_stand_in /tmp/faults-bin/joold
unit=/tmp/faults-units/joold@.service
{
  echo "[Service]"
  echo "ExecStart=/tmp/faults-bin/joold $E2E_OUT/config/%i.netsocket.json $E2E_OUT/config/%i.modsocket.json $stats_port"
  echo "NetworkNamespacePath=/run/netns/%i"
  grep -E '^(Restart|RestartSec|RestartPreventExitStatus)=' "$E2E_REPO/packaging/joold@.service"
} >"$unit"
cp "$unit" "$out/unit"
for node in j1 j2; do
  netsocket_write "$node" 6 "$E2E_OUT/config/$node.netsocket.json"
  modsocket_write "$E2E_OUT/config/$node.modsocket.json"
  daemon_launch "$node" bash "$E2E_REPO/tests/e2e/lib/unit_supervisor.sh" "$unit" "$node" \
    "$E2E_OUT/units/$node"
done

# unit_pid NODE: the pid of the daemon the supervisor of NODE runs now.
unit_pid() {
  cat "$E2E_OUT/units/$1/pid" 2>/dev/null
}

# unit_wait_up NODE OLD_PID TIMEOUT: waits until NODE's supervisor runs a
# daemon other than OLD_PID that has bound its sync and control ports.
unit_wait_up() {
  local node=$1 old=$2 deadline=$((SECONDS + $3))
  until [ "$(unit_pid "$node")" != "$old" ] && kill -0 "$(unit_pid "$node")" 2>/dev/null &&
    udp_port_bound "$node" "$E2E_SYNC_PORT" && udp_port_bound "$node" $((E2E_SYNC_PORT + 1)); do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "$node's daemon did not come back within $3 s"
    sleep 0.1
  done
  event "$node up pid $(unit_pid "$node")"
}

# unit_wait_down NODE PID TIMEOUT: waits until daemon PID of NODE has ended.
unit_wait_down() {
  local node=$1 pid=$2 deadline=$((SECONDS + $3))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "$node's daemon (pid $pid) still runs after $3 s"
    sleep 0.1
  done
  event "$node down pid $pid"
}

# instance_create NODE: NODE's Jool instance as topo_add_node makes it.
instance_create() {
  topo_instance_add "$1"
  event "$1 instance created"
}

# catch_up NODE FAULT: how long after NODE's daemon came up it held every
# UDP session j1 holds (or "never" within 20 s), into faults/NODE.FAULT.caught_up.
catch_up() {
  local node=$1 started now expected count deadline=$((SECONDS + 20)) result=never
  started=$(cut -d' ' -f1 /proc/uptime)
  expected=$(session_count j1 udp)
  while [ "$SECONDS" -lt "$deadline" ]; do
    count=$(session_count "$node" udp)
    if [ "$count" -ge "$expected" ]; then
      now=$(cut -d' ' -f1 /proc/uptime)
      result=$(awk -v a="$now" -v b="$started" 'BEGIN { printf "%.2f", a - b }')
      break
    fi
    sleep 0.2
  done
  echo "$result $count $expected" >"$out/$node.$2.caught_up"
  event "$node caught up ($2): $result s, $count of $expected UDP sessions"
}

for node in j1 j2; do unit_wait_up "$node" none 60; done
traffic_lasting j1
# Both nodes share pool4: j2 picks its ports once it knows j1's.
sessions_wait_sync 15 || e2e_log "j2 did not get j1's flows"
traffic_lasting j2
sessions_wait_sync 15 || e2e_die "the nodes did not sync before the faults"

# 1. The modules go away and come back.
mv "$E2E_OUT/traffic.csv" "$out/traffic.before-unload.csv"
: >"$E2E_OUT/traffic.csv"
j1_pid=$(unit_pid j1)
j2_pid=$(unit_pid j2)
event "unloading"
rmmod jool jool_common || e2e_die "cannot unload the Jool modules"
event "unloaded"
unit_wait_down j1 "$j1_pid" 30
unit_wait_down j2 "$j2_pid" 30
# A start without the module fails (status 1); let the supervisor try once.
sleep 6
insmod /tmp/faults-bin/jool_common.ko && insmod /tmp/faults-bin/jool.ko ||
  e2e_die "cannot load the Jool modules again"
event "loaded"
instance_create j1
unit_wait_up j1 "$j1_pid" 60
traffic_udp_flows j1 "$burst" 20000
event "burst through j1"
instance_create j2
unit_wait_up j2 "$j2_pid" 60
catch_up j2 reload
traffic_lasting j1
# Both nodes share pool4: j2 picks its ports once it knows j1's.
sessions_wait_sync 15 || e2e_log "j2 did not get j1's flows"
traffic_lasting j2
sessions_wait_sync 15 || e2e_log "not in sync after the reload"
cp "$E2E_OUT/sync.txt" "$out/reload.sync"

# 2. j2's instance removed, then added again.
j2_pid=$(unit_pid j2)
event "removing j2's instance"
jool_in j2 instance remove default || e2e_die "cannot remove j2's instance"
event "j2 instance removed"
traffic_udp_flows j1 "$burst" 22000
event "burst through j1"
unit_wait_down j2 "$j2_pid" 30
instance_create j2
unit_wait_up j2 "$j2_pid" 60
catch_up j2 instance
traffic_lasting j1
# Both nodes share pool4: j2 picks its ports once it knows j1's.
sessions_wait_sync 15 || e2e_log "j2 did not get j1's flows"
traffic_lasting j2
sessions_wait_sync 20
for node in j1 j2; do stats_json "$node" "$stats_port" "$node"; done
jool_kernel_problems >"$out/kernel.after"
sessions_dump
e2e_finish
