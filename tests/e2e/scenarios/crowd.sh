#!/usr/bin/env bash
# crowd: eight nodes with our joold (j1..j8) and one with the C joold (j9) on
# one IPv6 group, 2% of the datagrams lost on every port of the sync bridge
# (tc netem, towards each node). A burst of UDP flows through each of j1..j4
# in turn (the next once every node of ours holds the last, so that no two
# nodes pick the same pool4 port). Every node of ours must end with every
# session; the C joold's node syncs what it syncs today (what reached it),
# and the kernel logs no Jool error or warning.
# Leaves in crowd/: NODE.count (that node's sessions of the bursts),
# netem.txt (what netem dropped, per port), kernel.before and kernel.after,
# the daemons' JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 burst=${JOOLD_E2E_CROWD_BURST:-400} senders=4 ours_nodes=8
topo_setup 9
out=$E2E_OUT/crowd
mkdir -p "$out"
modprobe sch_netem || e2e_die "no sch_netem"
topo_burst_pool4 "${E2E_NODES[@]}"
jool_kernel_problems >"$out/kernel.before"

# burst_count NODE: NODE's UDP sessions of the bursts (clients c1..c4, from port 20000).
burst_count() {
  jool_in "$1" session display --udp --numeric --csv --no-headers |
    awk -F, -v n="$burst" '$2 ~ /^2001:db8:[1-4]::2$/ && $3 >= 20000 && $3 < 20000 + n { c++ }
      END { print c + 0 }'
}

# wait_all COUNT TIMEOUT: until every node of ours holds COUNT sessions of the bursts.
wait_all() {
  local deadline=$((SECONDS + $2)) n
  for ((n = 1; n <= ours_nodes; n++)); do
    until [ "$(burst_count "j$n")" -ge "$1" ]; do
      [ "$SECONDS" -lt "$deadline" ] || return 1
      sleep 1
    done
  done
}

for ((n = 1; n <= ours_nodes; n++)); do
  node_start_daemon "j$n" ours 6 "$stats_port"
done
node_start_daemon j9 reference 6
for ((n = 1; n <= ours_nodes; n++)); do
  daemon_wait_ready "j$n" 180 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "j$n did not start"
done
daemon_wait_ready j9 30 "$E2E_SYNC_PORT" || e2e_die "the C joold did not start"
for n in "${!E2E_NODES[@]}"; do
  tc -n sync qdisc add dev "port$((n + 1))" root netem loss 2% || e2e_die "cannot add netem"
done
# Past every start's resync exchange and offer of its table.
sleep 5

for ((n = 1; n <= senders; n++)); do
  traffic_udp_flows "j$n" "$burst" 20000
  wait_all $((n * burst)) 60 || e2e_log "the burst through j$n did not reach every node within 60 s"
  e2e_log "burst through j$n: $(for node in "${E2E_NODES[@]}"; do echo -n "$node $(burst_count "$node") "; done)"
done
# The C joold's node gets no repair: give what is on its way a moment.
sleep 5
for node in "${E2E_NODES[@]}"; do
  burst_count "$node" >"$out/$node.count"
done
for ((n = 1; n <= ours_nodes; n++)); do
  stats_json "j$n" "$stats_port" "j$n"
done
tc -n sync -s qdisc show >"$out/netem.txt"
jool_kernel_problems >"$out/kernel.after"
e2e_finish
