#!/usr/bin/env bash
# kill-union: j2's daemon SIGKILLed during a burst of UDP flows through j1,
# started again 10 s later; while it was down, j1 made more UDP sessions and
# j2 made TCP sessions of its own (no daemon relayed them). Both nodes must
# end with the union of their tables: j2 gets j1's by resync, j1 gets j2's
# from the restarted daemon's offer of its table. The same again with
# "reliable delivery": false on both daemons is the control: j1 must then
# lack j2's sessions (nothing offers them). j1 makes only UDP sessions and j2
# only TCP ones, so the two never pick the same pool4 port.
# Leaves in union/: CASE.counts ("NODE UDP_FROM_C1 TCP_FROM_C2" per node) and
# the daemons' JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 burst=600 gap_burst=300 connections=40
topo_setup 2
out=$E2E_OUT/union
mkdir -p "$out"
topo_burst_pool4 j1 j2

# counts NODE FIRST_PORT TCP_BEFORE: NODE's UDP sessions from c1's ports
# FIRST_PORT.. (this case's), and its TCP sessions from c2 beyond TCP_BEFORE
# (those of the cases before: c2's source ports are the kernel's choice).
counts() {
  local udp tcp
  udp=$(jool_in "$1" session display --udp --numeric --csv --no-headers |
    awk -F, -v first="$2" -v n=$((burst + gap_burst)) \
      '$2 == "2001:db8:1::2" && $3 >= first && $3 < first + n { c++ } END { print c + 0 }')
  echo "$1 $udp $(($(tcp_count "$1") - $3))"
}

# tcp_count NODE: NODE's TCP sessions from c2.
tcp_count() {
  jool_in "$1" session display --tcp --numeric --csv --no-headers |
    awk -F, '$2 == "2001:db8:2::2" { c++ } END { print c + 0 }'
}

# tcp_connections NODE COUNT: COUNT TCP connections from NODE's client to its
# server, one after another (each a session of its own: a new source port).
tcp_connections() {
  local n=${1#j}
  ip netns exec "c$n" timeout 120 bash -c "
    for i in \$(seq $2); do
      exec 3<>/dev/tcp/64:ff9b::$E2E_SERVER4/$E2E_TCP_PORT && echo hello >&3 && exec 3>&-
    done" || e2e_die "the TCP connections from c$n failed"
}

# start NODE CASE [MEMBER]: our joold in NODE, the netsocket with MEMBER.
start() {
  case_daemon "$1" "$2" "$stats_port" "" "${3:-}"
  daemon_wait_ready "$1" 60 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "$1 did not start"
}

# run_case CASE FIRST_PORT [MEMBER]
run_case() {
  local name=$1 first=$2 member=${3:-} killed_at flows node deadline j1_tcp j2_tcp
  j1_tcp=$(tcp_count j1) j2_tcp=$(tcp_count j2)
  start j1 "$name" "$member"
  start j2 "$name" "$member"
  sleep 4
  traffic_udp_flows j1 "$burst" "$first" &
  flows=$!
  sleep 0.5
  kill -KILL "$(daemon_pid j2)"
  killed_at=$SECONDS
  wait "$flows"
  daemon_wait_exit j2 10 || e2e_die "j2's daemon outlived SIGKILL"
  daemon_set_aside j2 "j2-$name-killed"
  traffic_udp_flows j1 "$gap_burst" $((first + burst))
  tcp_connections j2 "$connections"
  e2e_log "$name: down $((SECONDS - killed_at)) s; $(counts j1 "$first" "$j1_tcp") $(counts j2 "$first" "$j2_tcp")"
  sleep $((10 - (SECONDS - killed_at) > 0 ? 10 - (SECONDS - killed_at) : 0))
  start j2 "$name" "$member"
  # Long enough for the start's offer (3 s) and resync, with room to spare;
  # the control ends there (nothing would offer j2's sessions any later).
  deadline=$((SECONDS + 40))
  [ -n "$member" ] && deadline=$((SECONDS + 15))
  until [ "$(counts j1 "$first" "$j1_tcp" | cut -d' ' -f2-)" = \
    "$(counts j2 "$first" "$j2_tcp" | cut -d' ' -f2-)" ] ||
    [ "$SECONDS" -ge "$deadline" ]; do
    sleep 1
  done
  counts j1 "$first" "$j1_tcp" >"$out/$name.counts"
  counts j2 "$first" "$j2_tcp" >>"$out/$name.counts"
  case_end "$name" "$out/$name.counts" "$stats_port"
}

run_case union 20000
run_case off 24000 '"reliable delivery": false'
e2e_finish
