# shellcheck shell=bash
# The end-to-end test network, built INSIDE the VM (scripts/vm/run_vm.sh) by
# tests/e2e/scenarios/*.sh, as root. Node N (1..9) is three namespaces:
#
#   cN  IPv6 client  2001:db8:N::2/64 --- 2001:db8:N::1/64 "to-client"   jN
#   jN  NAT64 translator: Jool instance "default", pool6 64:ff9b::/96, pool4
#       192.0.2.1 61001-65535 for TCP, UDP and ICMP, ss-enabled (unless
#       E2E_SET_SS_ENABLED=0), ss-flush-asap
#   sN  IPv4 server  192.0.2.2/24     --- 192.0.2.1/24 "to-server"        jN
#
# and every jN has "sync0" (2001:db8:ff08::N/96, 198.51.100.N/24) plugged
# into bridge br0 of namespace "sync". Translators are identical (same pool4),
# so a session synchronised from any of them is valid on every other; clients
# differ, so a session's IPv6 source tells which node created it.
#
# Results go to $E2E_OUT (the VM's writable share): sessions/NODE.PROTO.csv,
# traffic.csv (what each traffic_* call did), sync.txt, stats/, daemons/,
# config/, syslog.log (the reference joold logs there only), dmesg.txt.

set -uo pipefail

E2E_OUT=${JOOLD_E2E_OUT:?run this inside the VM: scripts/vm/run_vm.sh OUT_DIR ...}
# shellcheck source=tests/e2e/lib/daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"

readonly E2E_POOL6=64:ff9b::/96
readonly E2E_POOL4=192.0.2.1
readonly E2E_POOL4_PORTS=61001-65535
readonly E2E_SERVER4=192.0.2.2
readonly E2E_MCAST4=233.252.0.64
readonly E2E_MCAST6=ff08::db8:64:64
readonly E2E_SYNC_PORT=6464
readonly E2E_TCP_PORT=8080
readonly E2E_UDP_PORTS=(7777 7778)
readonly E2E_PROTOCOLS=(tcp udp icmp)
# The 4.1.9 kernel sends one batch per daemon ACK and drops what overflows the
# batch it fills meanwhile: give each flow time to be sent before the next.
readonly E2E_FLOW_GAP=${JOOLD_E2E_FLOW_GAP:-0.3}

E2E_NODES=()

e2e_die() {
  echo "e2e: $*" >&2
  exit 1
}

# e2e_log MESSAGE: a timestamped progress line on the console.
e2e_log() {
  echo "e2e [$(cut -d' ' -f1 /proc/uptime)s] $*"
}

ns_add() {
  ip netns add "$1" || e2e_die "cannot create namespace $1"
  # Without DAD, addresses (and IPv6 multicast) are usable at once.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
    net.ipv6.conf.default.accept_dad=0
  ip -n "$1" link set lo up
}

# topo_setup COUNT: builds the sync bridge and nodes 1..COUNT.
topo_setup() {
  local count=$1 n
  [[ $count =~ ^[1-9]$ ]] || e2e_die "node count must be 1..9: $count"
  # Records of an earlier VM run in the same out directory (the benchmark
  # reuses its own) name processes of a guest that is gone.
  rm -rf "$E2E_OUT/daemons"
  mkdir -p "$E2E_OUT"/{sessions,daemons,stats,config}
  # Also when a step dies: daemons' exit statuses and the kernel log are what
  # tells why.
  trap e2e_cleanup EXIT
  : >"$E2E_OUT/traffic.csv"
  sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link set lo up
  # The reference joold logs to syslog only; the guest has none of its own.
  busybox syslogd -O "$E2E_OUT/syslog.log"
  ns_add sync
  # Without snooping the bridge floods multicast: no wait for MLD/IGMP reports.
  ip -n sync link add br0 type bridge mcast_snooping 0 || e2e_die "cannot create the bridge"
  ip -n sync link set br0 up
  for ((n = 1; n <= count; n++)); do
    topo_add_node "$n"
  done
  printf '%s\n' "${E2E_NODES[@]}" >"$E2E_OUT/nodes.txt"
  e2e_log "topology ready: ${E2E_NODES[*]}"
}

# topo_instance_add NODE: NODE's Jool instance "default": pool6, pool4 for
# every protocol, ss-enabled (unless E2E_SET_SS_ENABLED=0, which leaves
# Jool's default, off, untouched) and ss-flush-asap.
topo_instance_add() {
  local p
  jool_in "$1" instance add default --netfilter --pool6 "$E2E_POOL6" ||
    e2e_die "cannot add the Jool instance in $1"
  for p in "${E2E_PROTOCOLS[@]}"; do
    jool_in "$1" pool4 add "$E2E_POOL4" "$E2E_POOL4_PORTS" "--$p" || e2e_die "cannot add pool4 in $1"
  done
  if [ "${E2E_SET_SS_ENABLED:-1}" = 1 ]; then
    jool_in "$1" global update ss-enabled true || e2e_die "cannot enable session sync in $1"
  fi
  jool_in "$1" global update ss-flush-asap true || e2e_die "cannot set ss-flush-asap in $1"
}

topo_add_node() {
  local n=$1 j=j$1 c=c$1 s=s$1
  ns_add "$j"
  ns_add "$c"
  ns_add "$s"
  topo_sync_link "$j" "$n"

  ip link add eth0 netns "$c" type veth peer name to-client netns "$j"
  ip -n "$c" addr add "2001:db8:$n::2/64" dev eth0 nodad
  ip -n "$c" link set eth0 up
  ip -n "$j" addr add "2001:db8:$n::1/64" dev to-client nodad
  ip -n "$j" link set to-client up
  ip -n "$c" -6 route add default via "2001:db8:$n::1"

  ip link add eth0 netns "$s" type veth peer name to-server netns "$j"
  ip -n "$s" addr add "$E2E_SERVER4/24" dev eth0
  ip -n "$s" link set eth0 up
  ip -n "$j" addr add "$E2E_POOL4/24" dev to-server
  ip -n "$j" link set to-server up

  ip netns exec "$j" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
  topo_instance_add "$j"

  # The TCP flows need someone to talk to; UDP and ICMP do not.
  ip netns exec "$s" nc -4 -l -k "$E2E_TCP_PORT" </dev/null >/dev/null 2>&1 &
  E2E_NODES+=("$j")
}

# jool_in NODE ARG...: runs Jool's configuration tool in namespace NODE.
jool_in() {
  local node=$1
  shift
  ip netns exec "$node" jool "$@"
}

# jool_global NODE NAME: the value `jool global display` shows for NAME.
jool_global() {
  jool_in "$1" global display | awk -v name="$2:" '$1 == name { print $2 }'
}

# topo_burst_pool4 NODE...: room in pool4 for bursts of thousands of UDP
# sessions (the topology's has 4,535 ports), below the namespace's ephemeral
# ports, which Jool 4.1.11+ refuses in pool4.
topo_burst_pool4() {
  local node
  for node in "$@"; do
    jool_in "$node" pool4 add "$E2E_POOL4" 1024-32767 --udp || e2e_die "cannot add pool4 in $node"
  done
}

# topo_add_sync_host NAME N: a bare namespace on the sync bridge (no Jool,
# no daemon), "sync0" with 2001:db8:ff08::N/96 and 198.51.100.N/24; N must
# not be a node's.
topo_add_sync_host() {
  ns_add "$1"
  topo_sync_link "$1" "$2"
}

# topo_sync_link NAMESPACE N: NAMESPACE's "sync0" on the sync bridge, with
# 2001:db8:ff08::N/96 and 198.51.100.N/24.
topo_sync_link() {
  local name=$1 n=$2
  ip link add sync0 netns "$name" type veth peer name "port$n" netns sync
  ip -n sync link set "port$n" master br0 up
  ip -n "$name" addr add "2001:db8:ff08::$n/96" dev sync0 nodad
  ip -n "$name" addr add "198.51.100.$n/24" dev sync0
  ip -n "$name" link set sync0 up
}

# jool_kernel_problems: the Jool error and warning lines of the kernel log
# (one log for every namespace of the VM).
jool_kernel_problems() {
  dmesg | grep -E 'Jool (error|ERROR|WARNING)'
}

# --- daemons -----------------------------------------------------------------

# netsocket_write NODE FAMILY FILE [KEY_FILE [MEMBER]]: the netsocket
# configuration of NODE for multicast over IPv4 (FAMILY 4) or IPv6 (FAMILY 6)
# on its sync link, sealed with KEY_FILE ("auth key file") if not empty, with
# the JSON MEMBER (e.g. '"reliable delivery": false') first if given.
netsocket_write() {
  local n=${1#j} family=$2 file=$3 key=${4:-} member=${5:-} group interface
  case "$family" in
    4) group=$E2E_MCAST4 interface=198.51.100.$n ;;
    6) group=$E2E_MCAST6 interface=sync0 ;;
    *) e2e_die "family must be 4 or 6: $family" ;;
  esac
  cat >"$file" <<JSON
{
  "multicast address": "$group",
  "multicast port": "$E2E_SYNC_PORT",
  "in interface": "$interface",
  "out interface": "$interface",
  "ttl": 3${key:+,
  \"auth key file\": \"$key\"}
}
JSON
  [ -z "$member" ] || sed -i "0,/^{/s||{\\n  $member,|" "$file"
}

# modsocket_write FILE [INSTANCE [MEMBERS]]: MEMBERS are more JSON members,
# e.g. '"enable ss": false' (the reference joold ignores keys it lacks).
modsocket_write() {
  printf '{ "instance": "%s"%s }\n' "${2:-default}" "${3:+, $3}" >"$1"
}

# node_start_daemon NODE KIND FAMILY [STATS_PORT]: starts a daemon of KIND
# (ours, reference, or none for no daemon) in NODE, synchronising over FAMILY
# multicast, with config files in $E2E_OUT/config. Does not wait for it.
node_start_daemon() {
  local node=$1 kind=$2 family=$3 port=${4:-}
  local net=$E2E_OUT/config/$node.netsocket.json mod=$E2E_OUT/config/$node.modsocket.json
  netsocket_write "$node" "$family" "$net"
  modsocket_write "$mod"
  case "$kind" in
    ours) start_ours "$node" "$net" "$mod" ${port:+"$port"} ;;
    reference) start_reference "$node" "$net" "$mod" ${port:+"$port"} ;;
    none) return 0 ;;
    *) e2e_die "daemon kind must be ours, reference or none: $kind" ;;
  esac
  e2e_log "started $kind joold in $node (IPv$family multicast${port:+, stats port $port})"
}

# --- traffic -----------------------------------------------------------------

# traffic_record NODE PROTO DST_PORT STATUS: one line of $E2E_OUT/traffic.csv,
# which tells the test which sessions NODE must have created.
traffic_record() {
  local n=${1#j}
  echo "$1,$2,2001:db8:$n::2,$E2E_SERVER4,$3,$4" >>"$E2E_OUT/traffic.csv"
}

# traffic_tcp NODE [PORT]: one TCP connection (handshake, data, close) from
# NODE's client to its server, through NODE's translator.
traffic_tcp() {
  local n=${1#j} port=${2:-$E2E_TCP_PORT} status=ok
  ip netns exec "c$n" timeout 10 bash -c \
    "exec 3<>/dev/tcp/64:ff9b::$E2E_SERVER4/$port && echo hello >&3 && exec 3>&-" ||
    status=failed
  traffic_record "$1" TCP "$port" "$status"
}

# traffic_udp NODE [PORT]: one UDP datagram from NODE's client to its server.
traffic_udp() {
  local n=${1#j} port=${2:-${E2E_UDP_PORTS[0]}} status=ok
  ip netns exec "c$n" timeout 10 bash -c "echo hello >/dev/udp/64:ff9b::$E2E_SERVER4/$port" ||
    status=failed
  traffic_record "$1" UDP "$port" "$status"
}

# traffic_icmp NODE: one echo request (and its reply) between NODE's client and server.
traffic_icmp() {
  local n=${1#j} status=ok
  ip netns exec "c$n" busybox ping6 -c 1 -W 5 "64:ff9b::$E2E_SERVER4" >/dev/null || status=failed
  traffic_record "$1" ICMP "" "$status"
}

# traffic_all NODE: a TCP connection, two UDP flows and a ping through NODE.
traffic_all() {
  local port
  traffic_tcp "$1"
  sleep "$E2E_FLOW_GAP"
  for port in "${E2E_UDP_PORTS[@]}"; do
    traffic_udp "$1" "$port"
    sleep "$E2E_FLOW_GAP"
  done
  traffic_icmp "$1"
  sleep "$E2E_FLOW_GAP"
  e2e_log "traffic through $1: $(grep -c "^$1,.*,ok$" "$E2E_OUT/traffic.csv") flows ok," \
    "$(grep -c "^$1,.*,failed$" "$E2E_OUT/traffic.csv") failed"
}

# traffic_lasting NODE: a TCP connection and a UDP flow through NODE, for
# scenarios longer than a minute: an ICMP session expires after 60 s, and
# then the comparison at the end misses it (the TCP one, closed, lasts 4 min).
traffic_lasting() {
  traffic_tcp "$1"
  sleep "$E2E_FLOW_GAP"
  traffic_udp "$1" "${E2E_UDP_PORTS[1]}"
  sleep "$E2E_FLOW_GAP"
}

# traffic_udp_flows NODE COUNT [FIRST_PORT]: COUNT UDP flows at once from
# NODE's client (source ports FIRST_PORT.., default 20000) to its server's
# first UDP port, by tests/e2e/lib/udp_flows.ts; recorded as one line of
# traffic.csv (the test matches sessions by destination, not source port).
traffic_udp_flows() {
  local n=${1#j} first=${3:-20000} status=ok
  run_deno_tool "c$n" tests/e2e/lib/udp_flows.ts "64:ff9b::$E2E_SERVER4" "${E2E_UDP_PORTS[0]}" \
    "$first" "$2" || status=failed
  traffic_record "$1" UDP "${E2E_UDP_PORTS[0]}" "$status"
}

# --- sessions ----------------------------------------------------------------

# session_count NODE PROTO: how many PROTO (tcp, udp, icmp) sessions NODE has.
session_count() {
  jool_in "$1" session display "--$2" --numeric --csv --no-headers | grep -c .
}

# session_tuples NODE: the sessions of NODE, one sorted line each, reduced to
# the fields that identify them (protocol, IPv6 source, IPv4 source, IPv4
# destination): expiration and state legitimately differ between nodes.
session_tuples() {
  local p
  for p in "${E2E_PROTOCOLS[@]}"; do
    jool_in "$1" session display "--$p" --numeric --csv --no-headers | cut -d, -f1-3,6-9
  done | sort
}

# sessions_wait_sync TIMEOUT: waits until every node holds the same sessions.
# Records the outcome in $E2E_OUT/sync.txt; fails on timeout.
sessions_wait_sync() {
  local deadline=$((SECONDS + $1)) start=$SECONDS node first current in_sync
  while :; do
    in_sync=1
    first=$(session_tuples "${E2E_NODES[0]}")
    for node in "${E2E_NODES[@]:1}"; do
      current=$(session_tuples "$node")
      [ "$current" = "$first" ] || in_sync=0
    done
    if [ "$in_sync" = 1 ]; then
      echo "in sync after $((SECONDS - start))s" >"$E2E_OUT/sync.txt"
      e2e_log "sessions in sync"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "not in sync after $1s" >"$E2E_OUT/sync.txt"
      e2e_log "sessions NOT in sync after $1s"
      return 1
    fi
    sleep 0.5
  done
}

# sessions_dump: every node's session tables, as Jool prints them, to
# $E2E_OUT/sessions/NODE.PROTO.csv.
sessions_dump() {
  local node p
  for node in "${E2E_NODES[@]}"; do
    for p in "${E2E_PROTOCOLS[@]}"; do
      jool_in "$node" session display "--$p" --numeric --csv \
        >"$E2E_OUT/sessions/$node.$p.csv" 2>"$E2E_OUT/sessions/$node.$p.err"
    done
  done
}

# --- stats -------------------------------------------------------------------

# stats_query NODE PORT: asks NODE's daemon for its counters over IPv4 and IPv6
# (its sync addresses) into $E2E_OUT/stats/NODE.ipv4.txt and NODE.ipv6.txt.
stats_query() {
  local n=${1#j} port=$2
  echo "" | ip netns exec "$1" nc -u -w1 "198.51.100.$n" "$port" >"$E2E_OUT/stats/$1.ipv4.txt"
  echo "" | ip netns exec "$1" nc -u -w1 "2001:db8:ff08::$n" "$port" >"$E2E_OUT/stats/$1.ipv6.txt"
}

# stats_json NODE PORT NAME: asks NODE's daemon (our joold) for its JSON
# counters, over IPv6 loopback, into $E2E_OUT/stats/NAME.json. Returns as
# soon as the answer (one datagram) is in.
# traffic_udp_fill NODE COUNT: COUNT UDP flows through NODE (traffic_udp_flows),
# then waits up to 10 s for NODE to hold COUNT UDP sessions.
traffic_udp_fill() {
  local deadline=$((SECONDS + 10))
  traffic_udp_flows "$1" "$2"
  until [ "$(session_count "$1" udp)" -ge "$2" ] || [ "$SECONDS" -ge "$deadline" ]; do
    sleep 0.2
  done
}

# resync_join_and_finish STATS_PORT WATCH_S OUT: the end of both resync
# scenarios: our joold starts on j2, which must get all of j1's UDP sessions
# (resync_watch); then both daemons' JSON counters, the kernel log's
# problems and every node's sessions are recorded, and the scenario ends.
resync_join_and_finish() {
  # Names of their own: the scenarios' variables of the same meaning are readonly.
  local port=$1 watch=$2 dir=$3
  node_start_daemon j2 ours 6 "$port"
  resync_watch j2 "$(session_count j1 udp)" "$watch" "$dir"
  sleep 1
  stats_json j1 "$port" j1.after
  stats_json j2 "$port" j2
  jool_kernel_problems >"$dir/kernel.after"
  sessions_dump
  e2e_finish
}

# resync_watch NODE EXPECTED WATCH_S OUT: once NODE's daemon (just started) is
# ready, both of its sync sockets bound (it sends its REQUEST right then),
# counts NODE's UDP sessions every 0.2 s until it holds EXPECTED or WATCH_S
# seconds have passed. Leaves OUT/NODE.timeline ("SECONDS_SINCE_READY
# UDP_SESSIONS" lines) and OUT/result (ready/complete times, counts).
resync_watch() {
  local node=$1 expected=$2 watch=$3 dir=$4 deadline ready count elapsed complete=never
  local control_port=$((E2E_SYNC_PORT + 1))
  deadline=$((SECONDS + 30))
  until udp_port_bound "$node" "$E2E_SYNC_PORT" && udp_port_bound "$node" "$control_port"; do
    daemon_exited "$node" && e2e_die "the daemon in $node ended early"
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the daemon in $node did not start"
    sleep 0.05
  done
  ready=$(cut -d' ' -f1 /proc/uptime)
  e2e_log "$node's daemon is ready"
  : >"$dir/$node.timeline"
  while :; do
    count=$(session_count "$node" udp)
    elapsed=$(awk -v a="$(cut -d' ' -f1 /proc/uptime)" -v b="$ready" 'BEGIN { printf "%.2f", a - b }')
    echo "$elapsed $count" >>"$dir/$node.timeline"
    if [ "$count" -ge "$expected" ]; then
      complete=$elapsed
      break
    fi
    awk -v e="$elapsed" -v w="$watch" 'BEGIN { exit !(e >= w) }' && break
    sleep 0.2
  done
  e2e_log "$node has $count of $expected UDP sessions, ${elapsed}s after its daemon was ready"
  {
    echo "ready_uptime=$ready"
    echo "complete_after=$complete"
    echo "expected=$expected"
    echo "final_count=$count"
    echo "watched_for=$elapsed"
  } >"$dir/result"
}

# stats_wait_quiet NODE PORT TIMEOUT: waits until two answers of NODE's stats
# server 1 s apart are the same (nothing more to relay), at most TIMEOUT s.
stats_wait_quiet() {
  local before after deadline=$((SECONDS + $3))
  after=$(echo | ip netns exec "$1" nc -u -W1 -w2 ::1 "$2")
  while [ "$SECONDS" -lt "$deadline" ]; do
    sleep 1
    before=$after
    after=$(echo | ip netns exec "$1" nc -u -W1 -w2 ::1 "$2")
    [ "$before" = "$after" ] && return 0
  done
  e2e_log "the stats of $1 did not settle within $3 s"
}

stats_json() {
  echo json | ip netns exec "$1" nc -u -W1 -w2 ::1 "$2" >"$E2E_OUT/stats/$3.json"
}

# case_daemon NODE NAME STATS_PORT [KEY_FILE [MEMBER [MODSOCKET_MEMBERS]]]: our
# joold in NODE for case NAME of a scenario, over the IPv6 group, its netsocket
# config/NODE.NAME.netsocket.json (see netsocket_write), MODSOCKET_MEMBERS in
# its modsocket. Does not wait for it.
case_daemon() {
  local net=$E2E_OUT/config/$1.$2.netsocket.json mod=$E2E_OUT/config/$1.modsocket.json
  netsocket_write "$1" 6 "$net" "${4:-}" "${5:-}"
  modsocket_write "$mod" default "${6:-}"
  start_ours "$1" "$net" "$mod" "$3"
}

# case_start NAME STATS_PORT [KEY_FILE [MEMBER [J1_MODSOCKET_MEMBERS]]]: the
# start of one case of a scenario whose cases each start the daemons of j1
# and j2 afresh (case_daemon); waits until both are ready.
case_start() {
  local node
  case_daemon j1 "$1" "$2" "${3:-}" "${4:-}" "${5:-}"
  case_daemon j2 "$1" "$2" "${3:-}" "${4:-}"
  for node in j1 j2; do
    daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$2" || e2e_die "$node did not start"
  done
}

# case_end NAME COUNTS STATS_PORT: the end of one case of a scenario whose
# cases each start the daemons of j1 and j2 afresh: their JSON counters as
# stats/NODE.NAME, the case's COUNTS file logged, the daemons stopped and
# their records kept as NODE-NAME's.
case_end() {
  local node
  for node in j1 j2; do
    stats_json "$node" "$3" "$node.$1"
  done
  e2e_log "$1: $(tr '\n' ' ' <"$2")"
  daemons_stop
  for node in j1 j2; do
    daemon_set_aside "$node" "$node-$1"
  done
}

# --- whole scenarios ---------------------------------------------------------

# e2e_cleanup: stops the daemons and saves the kernel log; idempotent.
e2e_cleanup() {
  daemons_stop
  dmesg >"$E2E_OUT/dmesg.txt" 2>&1
}

# e2e_finish: the last step of a scenario that went to the end.
e2e_finish() {
  e2e_cleanup
  e2e_log "done"
}

# sync_scenario FAMILY KIND...: one node per KIND (ours, reference, none), each
# with that daemon over IPv(FAMILY) multicast; traffic through every node (or
# the nodes in $E2E_TRAFFIC_NODES), then the session tables are dumped.
sync_scenario() {
  local family=$1 n node
  shift
  topo_setup "$#"
  n=0
  for kind in "$@"; do
    n=$((n + 1))
    node_start_daemon "j$n" "$kind" "$family"
  done
  n=0
  for kind in "$@"; do
    n=$((n + 1))
    [ "$kind" = none ] && continue
    daemon_wait_ready "j$n" 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in j$n did not start"
  done
  for node in ${E2E_TRAFFIC_NODES:-${E2E_NODES[*]}}; do
    traffic_all "$node"
  done
  sessions_wait_sync "${E2E_SYNC_TIMEOUT:-15}"
  sessions_dump
  e2e_finish
}

# --- installing a release ----------------------------------------------------

# ours_stand_in FILE: writes FILE, an executable standing in for the compiled
# joold (`deno compile` embeds denort, which cannot be had here): it runs the
# bundle with the pinned Deno and exactly the executable's permissions and V8
# flags (scripts/runtime_flags.ts), as start_ours does.
ours_stand_in() {
  { [ -x "$E2E_DENO" ] && [ -f "$E2E_BUNDLE" ]; } ||
    e2e_die "the stand-in needs the pinned Deno and the bundle, built on the host before booting"
  e2e_ours_flags
  {
    echo '#!/bin/sh'
    echo "# Stands in for the compiled joold: the bundle, with the executable's flags."
    printf 'DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 exec %q run' "$E2E_DENO"
    printf ' %q' "${E2E_FLAGS[@]}" --no-config "$E2E_BUNDLE"
    # shellcheck disable=SC2016 # "$@" is for the stand-in's shell
    printf ' "$@"\n'
  } >"$1"
  chmod 0755 "$1"
}

# readme_block HEADING N: the lines of the Nth ```sh block in the README's
# "## HEADING" section; fails if there is none.
readme_block() {
  awk -v heading="## $1" -v want="$2" '
    /^## / { inside = ($0 == heading); next }
    !inside { next }
    /^```/ {
      if (open) { open = 0; if (count == want) { found = 1; exit } }
      else { open = 1; count++ }
      next
    }
    open && count == want { print }
    END { exit !found }
  ' "$E2E_REPO/README.md"
}

# node_make_bare: this VM's root is the host's, read-only; give it the
# writable, empty places a fresh router has for an install: /etc (a copy of
# the host's, in memory) and /usr/local (empty).
node_make_bare() {
  cp -a /etc /tmp/node-etc && mount --bind /tmp/node-etc /etc ||
    e2e_die "cannot make /etc writable"
  mount -t tmpfs -o mode=0755 tmpfs /usr/local || e2e_die "cannot give /usr/local a tmpfs"
}
