#!/usr/bin/env bash
# mixed-versions: runs in both VMs of scripts/vm/run_vm_pair.sh, one Jool
# version each (4.1.9 and 4.1.15 in CI: nested and raw36 session encodings).
# Each VM is one node, jN (N = JOOLD_E2E_PAIR_NODE), whose sync0 is the VM's
# NIC, on the link between the two VMs. Our joold runs on both; each node
# makes TCP, UDP and ICMP traffic and waits until it holds its peer's sessions
# too; the two tell each other they are done over the link before they stop.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"

readonly NODE=j${JOOLD_E2E_PAIR_NODE:?run by scripts/vm/run_vm_pair.sh}
readonly PEER=j${JOOLD_E2E_PAIR_PEER:?run by scripts/vm/run_vm_pair.sh}
readonly STATS_PORT=6470
readonly DONE_PORT=7001
# traffic_all's flows, on each node: TCP 1, UDP 2, ICMP 1.
readonly WANT_TCP=2 WANT_UDP=4 WANT_ICMP=2

# topo_sync_link NAMESPACE N (replaces topology.sh's veth to the bridge): the
# VM's NIC becomes NAMESPACE's sync0, with the addresses a bridge port has.
topo_sync_link() {
  local name=$1 n=$2
  ip link set eth0 netns "$name" || e2e_die "no NIC (eth0) to move into $name"
  ip -n "$name" link set eth0 name sync0
  ip -n "$name" addr add "2001:db8:ff08::$n/96" dev sync0 nodad
  ip -n "$name" addr add "198.51.100.$n/24" dev sync0
  ip -n "$name" link set sync0 up
}

# pair_setup: topo_setup for this VM's one node.
pair_setup() {
  rm -rf "$E2E_OUT/daemons"
  mkdir -p "$E2E_OUT"/{sessions,daemons,stats,config}
  trap e2e_cleanup EXIT
  : >"$E2E_OUT/traffic.csv"
  sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link set lo up
  busybox syslogd -O "$E2E_OUT/syslog.log"
  topo_add_node "${NODE#j}"
  printf '%s\n' "${E2E_NODES[@]}" >"$E2E_OUT/nodes.txt"
  cat /sys/module/jool/version >"$E2E_OUT/jool_version.txt"
  e2e_log "node $NODE ready (Jool $(cat /sys/module/jool/version))"
}

# have_all: true once NODE holds every session of both nodes' traffic.
have_all() {
  [ "$(session_count "$NODE" tcp)" -ge "$WANT_TCP" ] &&
    [ "$(session_count "$NODE" udp)" -ge "$WANT_UDP" ] &&
    [ "$(session_count "$NODE" icmp)" -ge "$WANT_ICMP" ]
}

pair_setup
peer6=2001:db8:ff08::${PEER#j}
# The peer's "done", whenever it comes.
ip netns exec "$NODE" timeout 300 nc -6 -u -l -W 1 "$DONE_PORT" >"$E2E_OUT/peer_done.txt" 2>&1 &
node_start_daemon "$NODE" ours 6 "$STATS_PORT"
daemon_wait_ready "$NODE" 60 "$E2E_SYNC_PORT" "$STATS_PORT" || e2e_die "our joold did not start"
deadline=$((SECONDS + 180))
until ip netns exec "$NODE" busybox ping6 -c 1 -W 1 "$peer6" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "the peer VM never answered on the link"
done
e2e_log "the peer VM answers on the link"
# Its daemon may start later: it then asks ours for the sessions (resync).
sleep 3
traffic_all "$NODE"
deadline=$((SECONDS + 120))
until have_all; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    e2e_log "not every session arrived"
    break
  fi
  sleep 0.5
done
have_all && echo "in sync" >"$E2E_OUT/sync.txt"
# Tell the peer until it has told us (our daemon keeps serving it meanwhile).
deadline=$((SECONDS + 180))
until [ -s "$E2E_OUT/peer_done.txt" ] || [ "$SECONDS" -ge "$deadline" ]; do
  ip netns exec "$NODE" bash -c "echo done >/dev/udp/$peer6/$DONE_PORT" 2>/dev/null
  sleep 1
done
for _ in 1 2 3; do
  ip netns exec "$NODE" bash -c "echo done >/dev/udp/$peer6/$DONE_PORT" 2>/dev/null
  sleep 1
done
stats_json "$NODE" "$STATS_PORT" "$NODE"
sessions_dump
e2e_finish
