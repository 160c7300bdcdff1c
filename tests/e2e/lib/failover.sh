# shellcheck shell=bash
# Two NAT64 routers in front of one client LAN and one server LAN, built INSIDE
# the VM by tests/e2e/scenarios/failover.sh (and the demo), as root:
#
#   c   IPv6 client 2001:db8:1::2/64, default route via the active router
#   lan6 bridge br0: c, j1 "to-client" 2001:db8:1::1, j2 "to-client" 2001:db8:1::3
#   j1, j2  Jool "default": pool6 64:ff9b::/96, the same pool4 192.0.2.1
#           61001-65535, ss-enabled, ss-flush-asap; "sync0" on the sync bridge
#   lan4 bridge br0: s, j1 "to-server" and j2 "to-server", both 192.0.2.1/24 with
#        one MAC (VRRP style); j2's cable (its port on lan4) unplugged
#   s   IPv4 server 192.0.2.2/24
#
# failover_move_to j2 pulls j1's two cables, points the client's route at j2
# and plugs j2's server-side cable in; failover_move_to j1 undoes it. The
# cables are the bridges' ports: the routers keep their addresses and see no
# carrier, and the server LAN's bridge forgets where the shared MAC was.
#
# `failover_setup vrrp` is the same LANs as keepalived runs them: the client's
# route goes via the virtual address FAILOVER_VIP6, which VRRP gives the
# master (with pool4's 192.0.2.1 on its server side); each router has an
# address of its own on both LANs (FAILOVER_ROUTER4 on the server's) and
# every cable is in.
#
# Sourced after tests/e2e/lib/topology.sh.

readonly FAILOVER_CLIENT6=2001:db8:1::2
readonly FAILOVER_SHARED_MAC=02:00:5e:00:01:01
readonly FAILOVER_ROUTERS=(j1 j2)
readonly FAILOVER_VIP6=2001:db8:1::100

# failover_router4 ROUTER: ROUTER's own address on the server LAN (vrrp mode).
failover_router4() {
  echo "192.0.2.1${1#j}"
}

# flows_start NAMESPACE LOG ARG...: tests/e2e/lib/failover_flows.ts in the
# background, its pid in FLOWS_PID (Deno's own: ip netns and env exec it).
flows_start() {
  local namespace=$1 log=$2
  shift 2
  ip netns exec "$namespace" env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
    "$E2E_DENO" run --allow-all --no-config "$E2E_REPO/tests/e2e/lib/failover_flows.ts" "$@" \
    >"$log" 2>"${log%.log}.err" &
  FLOWS_PID=$!
}

# wait_for_line FILE PATTERN TIMEOUT_S
wait_for_line() {
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# failover_router_address ROUTER: ROUTER's address on the client LAN.
failover_router_address() {
  case "$1" in
    j1) echo 2001:db8:1::1 ;;
    j2) echo 2001:db8:1::3 ;;
    *) e2e_die "no such router: $1" ;;
  esac
}

# failover_cable LAN NAME PEER_NAMESPACE PEER_NAME: a veth from PEER_NAMESPACE
# (PEER_NAME) to port NAME of LAN's bridge.
failover_cable() {
  ip link add "$4" netns "$3" type veth peer name "$2" netns "$1" || e2e_die "cannot cable $3 to $1"
  ip -n "$1" link set "$2" master br0 up
}

# failover_setup [cables|vrrp]: the namespaces, cables and Jool instances
# above; j1 active (cables) or nobody yet (vrrp: keepalived decides).
failover_setup() {
  local lan router mode=${1:-cables}
  rm -rf "$E2E_OUT/daemons"
  mkdir -p "$E2E_OUT"/{sessions,daemons,stats,config}
  trap e2e_cleanup EXIT
  sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link set lo up
  busybox syslogd -O "$E2E_OUT/syslog.log"
  for lan in sync lan6 lan4; do
    ns_add "$lan"
    ip -n "$lan" link add br0 type bridge mcast_snooping 0 || e2e_die "cannot create $lan's bridge"
    ip -n "$lan" link set br0 up
  done
  ns_add c
  ns_add s
  failover_cable lan6 c c eth0
  ip -n c addr add "$FAILOVER_CLIENT6/64" dev eth0 nodad
  ip -n c link set eth0 up
  if [ "$mode" = vrrp ]; then
    ip -n c -6 route add default via "$FAILOVER_VIP6"
  else
    ip -n c -6 route add default via "$(failover_router_address j1)"
  fi
  failover_cable lan4 s s eth0
  ip -n s addr add "$E2E_SERVER4/24" dev eth0
  ip -n s link set eth0 up
  for router in "${FAILOVER_ROUTERS[@]}"; do
    ns_add "$router"
    topo_sync_link "$router" "${router#j}"
    failover_cable lan6 "$router" "$router" to-client
    ip -n "$router" addr add "$(failover_router_address "$router")/64" dev to-client nodad
    ip -n "$router" link set to-client up
    failover_cable lan4 "$router" "$router" to-server
    if [ "$mode" = vrrp ]; then
      ip -n "$router" addr add "$(failover_router4 "$router")/24" dev to-server
    else
      ip -n "$router" link set to-server address "$FAILOVER_SHARED_MAC"
      ip -n "$router" addr add "$E2E_POOL4/24" dev to-server
    fi
    ip -n "$router" link set to-server up
    ip netns exec "$router" sysctl -qw net.ipv4.conf.all.forwarding=1 \
      net.ipv6.conf.all.forwarding=1
    topo_instance_add "$router"
    E2E_NODES+=("$router")
  done
  printf '%s\n' "${E2E_NODES[@]}" >"$E2E_OUT/nodes.txt"
  if [ "$mode" = vrrp ]; then
    e2e_log "failover topology ready for VRRP"
    return
  fi
  ip -n lan4 link set j2 down
  e2e_log "failover topology ready: j1 active, j2 standing by"
}

# failover_instances_renew: both routers' instances removed and added again,
# without sessions (the daemons must be stopped first).
failover_instances_renew() {
  local router
  for router in "${FAILOVER_ROUTERS[@]}"; do
    jool_in "$router" instance remove default || e2e_die "cannot remove the Jool instance in $router"
    topo_instance_add "$router"
  done
}

# failover_move_to ROUTER: makes ROUTER the active one. To j2: j1 dies (both
# its cables out), the client's route moves to j2, j2's server-side cable goes
# in. To j1: j1 is back (cables in), j2 stands by again (server-side cable
# out), the client's route moves back to j1.
failover_move_to() {
  case "$1" in
    j2)
      ip -n lan4 link set j1 down
      ip -n lan6 link set j1 down
      ip -n c -6 route replace default via "$(failover_router_address j2)"
      ip -n lan4 link set j2 up
      ;;
    j1)
      ip -n lan4 link set j2 down
      ip -n lan6 link set j1 up
      ip -n lan4 link set j1 up
      ip -n c -6 route replace default via "$(failover_router_address j1)"
      ;;
    *) e2e_die "no such router: $1" ;;
  esac
}

# failover_now_ms: the guest's wall clock in milliseconds (the flows' clock).
failover_now_ms() {
  local us=${EPOCHREALTIME/./}
  echo "${us:0:-3}"
}

# failover_wait_synced ROUTER TIMEOUT_S: waits until ROUTER holds an
# ESTABLISHED TCP session and a UDP session of the client; fails on timeout.
failover_wait_synced() {
  local deadline=$((SECONDS + $2))
  until jool_in "$1" session display --tcp --numeric --csv --no-headers |
    grep -q "^TCP,$FAILOVER_CLIENT6,.*,ESTABLISHED$" &&
    jool_in "$1" session display --udp --numeric --csv --no-headers | grep -q "^UDP,$FAILOVER_CLIENT6,"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
