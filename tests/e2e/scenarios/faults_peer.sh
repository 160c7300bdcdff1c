#!/usr/bin/env bash
# faults-peer: a peer daemon stopped, killed, cut off or overrun while
# sessions are in flight, between two of this project's joold (stats port
# 45678); each fault has a burst of UDP flows through j1 during it and
# another once it is over:
#   1. stop: j2's daemon SIGSTOPped for 10 s during a burst, then SIGCONT;
#   2. kill: j2's daemon SIGKILLed during a burst and started again: it must
#      get what it missed by resync;
#   3. interface: j2's sync0 deleted during a burst and created again with
#      the same name and addresses: j2's daemon must rejoin the group and get
#      what it missed;
#   4. overrun: j1's daemon, whose modsocket asks for a tiny netlink receive
#      buffer ("netlink receive buffer"), SIGSTOPped for 5 s during a burst
#      with ss-flush-deadline at 100 ms (the kernel then sends a batch every
#      100 ms without waiting for the ACK): the kernel drops batches
#      (ENOBUFS); on SIGCONT j1 must count the overrun and have its table
#      advertised, so that j2 still gets every session.
# Leaves faults/events (UPTIME EVENT lines), faults/NODE.FAULT.caught_up
# ("SECONDS COUNT EXPECTED": from the end of the fault until NODE held every
# UDP session j1 holds), JSON counters in stats/NODE.FAULT.json, the killed
# daemon's output in faults/j2.killed.stderr.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
# Seven bursts and the first flows must fit pool4's 4,535 UDP ports.
readonly stats_port=45678 burst=${JOOLD_E2E_FAULTS_BURST:-500}
topo_setup 2
out=$E2E_OUT/faults
mkdir -p "$out"
: >"$out/events"

event() {
  echo "$(cut -d' ' -f1 /proc/uptime) $*" >>"$out/events"
  e2e_log "$*"
}

# start NODE: our joold in NODE over IPv6 multicast; j1's with a tiny netlink buffer.
start() {
  local net=$E2E_OUT/config/$1.netsocket.json mod=$E2E_OUT/config/$1.modsocket.json
  netsocket_write "$1" 6 "$net"
  if [ "$1" = j1 ]; then
    modsocket_write "$mod" default '"netlink receive buffer": 4096'
  else
    modsocket_write "$mod"
  fi
  start_ours "$1" "$net" "$mod" "$stats_port"
  daemon_wait_ready "$1" 30 "$E2E_SYNC_PORT" $((E2E_SYNC_PORT + 1)) "$stats_port" ||
    e2e_die "the daemon in $1 did not start"
  event "$1 up"
}

# caught_up NODE FAULT: how long from now until NODE held every UDP session
# j1 holds (or "never" within 30 s), into faults/NODE.FAULT.caught_up.
caught_up() {
  local node=$1 started count expected deadline=$((SECONDS + 30)) result=never
  started=$(cut -d' ' -f1 /proc/uptime)
  expected=$(session_count j1 udp)
  while [ "$SECONDS" -lt "$deadline" ]; do
    count=$(session_count "$node" udp)
    if [ "$count" -ge "$expected" ]; then
      result=$(awk -v a="$(cut -d' ' -f1 /proc/uptime)" -v b="$started" \
        'BEGIN { printf "%.2f", a - b }')
      break
    fi
    sleep 0.2
  done
  echo "$result $count $expected" >"$out/$node.$2.caught_up"
  event "$node caught up ($2): $result s, $count of $expected UDP sessions"
}

# after FAULT FIRST_PORT: a burst through j1 and traffic through j2 once the fault is
# over; both nodes must then hold the same sessions; counters recorded. j2's
# traffic waits for the burst to reach j2: both nodes have the same pool4, and
# a port j2 picked for its own flow before j1's session for it arrived would
# collide (two BIB entries, one pool4 port: one node refuses the other's).
after() {
  traffic_udp_flows j1 "$burst" "$2"
  sessions_wait_sync 30 || e2e_log "$1: j2 did not get the burst"
  traffic_lasting j2
  sessions_wait_sync 30 || e2e_log "$1: not in sync"
  cp "$E2E_OUT/sync.txt" "$out/$1.sync"
  stats_wait_quiet j1 "$stats_port" 10
  for node in j1 j2; do
    daemon_exited "$node" && e2e_die "$node's daemon ended during $1"
    stats_json "$node" "$stats_port" "$node.$1"
  done
  event "$1 over"
}

start j1
start j2
traffic_lasting j1
sessions_wait_sync 15 || e2e_die "the nodes did not sync before the faults"

# 1. j2's daemon stopped for 10 s during a burst.
pid=$(daemon_pid j2)
kill -STOP "$pid"
stopped_at=$(cut -d' ' -f1 /proc/uptime)
event "j2 stopped"
traffic_udp_flows j1 "$burst" 20000
sleep "$(awk -v s="$stopped_at" -v n="$(cut -d' ' -f1 /proc/uptime)" \
  'BEGIN { r = 10 - (n - s); print (r > 0 ? r : 0) }')"
kill -CONT "$pid"
event "j2 continued"
caught_up j2 stop
after stop 21000

# 2. j2's daemon killed during a burst, then started again.
traffic_udp_flows j1 "$burst" 22000 &
flows=$!
sleep 0.5
kill -KILL "$(daemon_pid j2)"
event "j2 killed"
wait "$flows"
daemon_wait_exit j2 10 || e2e_die "j2's daemon outlived SIGKILL"
cp "$E2E_OUT/daemons/j2.stderr" "$out/j2.killed.stderr"
start j2
caught_up j2 kill
after kill 23000

# 3. j2's sync interface deleted during a burst, then created again.
ip -n j2 link del sync0 || e2e_die "cannot delete j2's sync0"
event "j2 sync0 deleted"
traffic_udp_flows j1 "$burst" 24000
sleep 2
topo_sync_link j2 2
event "j2 sync0 created"
caught_up j2 interface
after interface 25000

# 4. j1's kernel overruns j1's daemon's netlink socket.
jool_in j1 global update ss-flush-deadline 100 || e2e_die "cannot set ss-flush-deadline"
pid=$(daemon_pid j1)
kill -STOP "$pid"
event "j1 stopped"
traffic_udp_flows j1 "$burst" 26000
sleep 5
kill -CONT "$pid"
event "j1 continued"
caught_up j2 overrun
jool_in j1 global update ss-flush-deadline 2000
after overrun 27000

jool_kernel_problems >"$out/kernel.after"
sessions_dump
e2e_finish
