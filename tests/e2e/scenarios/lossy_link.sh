#!/usr/bin/env bash
# lossy-link: 10% of the datagrams lost on every port of the sync bridge
# (tc netem, both ways), our joold on j1 and j2 over the IPv6 group, 2,000
# new UDP sessions through j1 in each of three cases, each with daemons
# started afresh: clear, clear with "reliable delivery": false (the
# control), sealed. Each case's sessions on j1 and j2 are counted once
# j2's daemon has gone quiet (up to 30 s after the burst), before the next
# case starts (a daemon's start offer would repair an earlier case's loss).
# Leaves in lossy/: CASE.counts ("j1 N" and "j2 N") and CASE.j2.json (its
# JSON counters).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 burst=${JOOLD_E2E_LOSSY_BURST:-2000}
topo_setup 2
out=$E2E_OUT/lossy
keys=/tmp/keys
mkdir -p "$out" && mkdir -m 0700 "$keys" || e2e_die "cannot make the directories"
modprobe sch_netem || e2e_die "no sch_netem"
topo_burst_pool4 j1 j2
for node in j1 j2; do
  tc -n sync qdisc add dev "port${node#j}" root netem loss 10% || e2e_die "cannot add netem"
done
run_ours_command j1 keygen keygen "$keys/sync.key" || e2e_die "joold keygen failed"

# burst_count FIRST_PORT NODE: NODE's UDP sessions from c1's ports FIRST_PORT...+burst.
burst_count() {
  jool_in "$2" session display --udp --numeric --csv --no-headers |
    awk -F, -v first="$1" -v n="$burst" \
      '$2 == "2001:db8:1::2" && $3 >= first && $3 < first + n { c++ } END { print c + 0 }'
}

# run_case NAME FIRST_PORT [KEY_FILE] [EXTRA_MEMBER]
run_case() {
  local name=$1 first=$2 key=${3:-} extra=${4:-} node
  case_start "$name" "$stats_port" "$key" "$extra"
  sleep 4
  traffic_udp_flows j1 "$burst" "$first"
  local deadline=$((SECONDS + 30))
  until [ "$(burst_count "$first" j2)" -ge "$(burst_count "$first" j1)" ] ||
    [ "$SECONDS" -ge "$deadline" ]; do
    sleep 1
  done
  stats_wait_quiet j2 "$stats_port" 10
  for node in j1 j2; do
    echo "$node $(burst_count "$first" "$node")"
  done >"$out/$name.counts"
  stats_json j2 "$stats_port" "$name.j2"
  e2e_log "$name: $(tr '\n' ' ' <"$out/$name.counts")"
  daemons_stop
  for node in j1 j2; do
    daemon_set_aside "$node" "$node-$name"
  done
}

run_case clear 20000
run_case off 23000 "" '"reliable delivery": false'
run_case sealed 26000 "$keys/sync.key"
e2e_finish
