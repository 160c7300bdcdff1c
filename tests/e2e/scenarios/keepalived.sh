#!/usr/bin/env bash
# keepalived: failover the way operators run it. Two NAT64 routers on one
# client LAN and one server LAN (tests/e2e/lib/failover.sh, vrrp mode), each
# with Debian's keepalived holding the virtual address the client routes
# through (and pool4's address on the server side), as
# packaging/keepalived/keepalived.conf has it (adapted to the topology's
# names: tests/e2e/lib/failover.sh), and our joold syncing. In each
# case (gated, then ungated):
#   1. j1 is master; a TCP connection and a UDP flow (A) run through it;
#   2. j1 dies (every process of it killed, its cables pulled): keepalived
#      moves the address to j2 and A goes on through j2;
#   3. while j1 is away, a second connection (B) starts through j2;
#   4. j1 comes back as a rebooted router does: an empty session table, its
#      cables in, keepalived started, and joold JOOLD_DELAY_S later (as when
#      its unit's first starts fail and RestartSec= passes).
# gated: keepalived tracks `joold status` (the example's vrrp_script and
# preempt_delay), so j1 takes the address back only once its joold is in
# sync: A and B go on. ungated: the same without the vrrp_script and the
# delay: j1 takes the address back at once, without the sessions, and the
# connections break (the control).
# Each case leaves keepalived/CASE/{timeline.txt,a.log,b.log,vip.txt,
# j1.keepalived.conf,status/} and the daemons' records in daemons/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/failover.sh"

readonly DESTINATION=64:ff9b::$E2E_SERVER4
readonly A_TCP=$E2E_TCP_PORT A_UDP=${E2E_UDP_PORTS[0]}
readonly B_TCP=$((E2E_TCP_PORT + 1)) B_UDP=${E2E_UDP_PORTS[1]}
# The client gives a connection up after TIMEOUT_MS without an echo: longer
# than VRRP's takeover (3 advertisements and a skew: some 4 s under TCG),
# shorter than what a returning router without the sessions costs (its
# joold starts JOOLD_DELAY_S after keepalived).
readonly INTERVAL_MS=150 TIMEOUT_MS=10000
readonly JOOLD_DELAY_S=20
# Under TCG a `joold status` (a Deno start) takes seconds of CPU, not the
# example's 80 ms, and on a busy VM a run now and then more than 15 s: it
# runs less often, with a longer timeout, and one late run does not count
# (fall 2).
readonly SCRIPT_INTERVAL_S=10 SCRIPT_TIMEOUT_S=20 SCRIPT_FALL=2 PREEMPT_DELAY_S=30
readonly DIR=$E2E_OUT/keepalived
# Root's and 0755 up to /, as keepalived's enable_script_security wants.
readonly BIN=/run/keepalived-bin

# keepalived_conf ROUTER PRIORITY GATED FILE: packaging/keepalived/keepalived.conf
# for ROUTER: its interfaces, addresses and priority, joold where the stand-in
# is; without the vrrp_script's tracking unless GATED is yes.
keepalived_conf() {
  local router=$1 priority=$2 gated=$3 file=$4
  sed -e "s|^\( *priority\) 150$|\1 $priority|" -e "s| eth1$| to-client|" \
    -e "s|2001:db8:64::1/64|$FAILOVER_VIP6/64|" -e "s|192.0.2.1/24 dev eth0|$E2E_POOL4/24 dev to-server|" \
    -e "s|/usr/local/bin/joold|$BIN/joold|" -e "s|^\( *timeout\) 3$|\1 $SCRIPT_TIMEOUT_S|" \
    -e "s|^\( *interval\) 2$|\1 $SCRIPT_INTERVAL_S|" \
    -e "s|^\( *preempt_delay\) 10$|\1 $PREEMPT_DELAY_S|" -e "s|^\( *fall\) 1$|\1 $SCRIPT_FALL|" \
    "$E2E_REPO/packaging/keepalived/keepalived.conf" >"$file"
  grep -q "priority $priority$" "$file" && grep -q "$FAILOVER_VIP6/64" "$file" &&
    grep -q "dev to-server" "$file" && grep -q "interface to-client" "$file" &&
    grep -q "\"$BIN/joold status" "$file" && grep -q "timeout $SCRIPT_TIMEOUT_S$" "$file" &&
    grep -q "interval $SCRIPT_INTERVAL_S$" "$file" && grep -q "preempt_delay $PREEMPT_DELAY_S$" "$file" &&
    grep -q "fall $SCRIPT_FALL$" "$file" ||
    e2e_die "packaging/keepalived/keepalived.conf no longer has the lines this scenario adapts"
  if [ "$gated" != yes ]; then
    sed -i -e '/^ *track_script {/,/}/d' -e '/^ *preempt_delay /d' "$file"
  fi
}

# keepalived_start ROUTER CONF: Debian's keepalived in ROUTER, VRRP only,
# in the foreground, its own pid files.
keepalived_start() {
  daemon_launch_as "ka-$1" "$1" keepalived --dont-fork --log-console --log-detail --vrrp \
    --use-file="$2" --pid="/run/keepalived-$1.pid" --vrrp_pid="/run/keepalived-$1-vrrp.pid"
}

# vip_holder: the router holding the virtual address, or "none".
vip_holder() {
  local router
  for router in "${FAILOVER_ROUTERS[@]}"; do
    if ip -n "$router" -6 addr show dev to-client | grep -q "$FAILOVER_VIP6/"; then
      echo "$router"
      return
    fi
  done
  echo none
}

# vip_wait ROUTER TIMEOUT_S
vip_wait() {
  local deadline=$((SECONDS + $2))
  until [ "$(vip_holder)" = "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# joold_start ROUTER: our joold in ROUTER (its status file is its network
# namespace's: `joold status` in ROUTER finds it).
joold_start() {
  node_start_daemon "$1" ours 6
}

# router_dies ROUTER: every process in it killed, every cable pulled, and
# the virtual addresses its keepalived held gone with it (as with the power).
router_dies() {
  ip netns pids "$1" | xargs -r kill -KILL
  ip -n lan6 link set "$1" down
  ip -n lan4 link set "$1" down
  ip -n sync link set "port${1#j}" down
  ip -n "$1" -6 addr del "$FAILOVER_VIP6/64" dev to-client 2>/dev/null
  ip -n "$1" -6 addr del fe80::64/64 dev to-client 2>/dev/null
  ip -n "$1" addr del "$E2E_POOL4/24" dev to-server 2>/dev/null
}

# run_case CASE GATED
run_case() {
  local name=$1 gated=$2 case_dir=$DIR/$1 a b watcher
  mkdir -p "$case_dir/status"
  mark() { echo "$(failover_now_ms) $1" >>"$case_dir/timeline.txt"; }
  mark case-start
  keepalived_conf j1 150 "$gated" "$case_dir/j1.keepalived.conf"
  keepalived_conf j2 100 "$gated" "$case_dir/j2.keepalived.conf"
  for router in j1 j2; do
    joold_start "$router"
  done
  for router in j1 j2; do
    daemon_wait_ready "$router" 30 "$E2E_SYNC_PORT" || e2e_die "the daemon in $router did not start"
    keepalived_start "$router" "$case_dir/$router.keepalived.conf"
  done
  vip_wait j1 30 || e2e_die "$name: j1 did not become master (the address is on $(vip_holder))"
  # Who holds the address, every 100 ms, for the timeline.
  (
    last=""
    while :; do
      holder=$(vip_holder)
      [ "$holder" = "$last" ] || echo "$(failover_now_ms) $holder" >>"$case_dir/vip.txt"
      last=$holder
      sleep 0.1
    done
  ) &
  watcher=$!
  flows_start c "$case_dir/a.log" client "$DESTINATION" "$A_TCP" "$A_UDP" 30001 \
    "$INTERVAL_MS" "$TIMEOUT_MS"
  a=$FLOWS_PID
  wait_for_line "$case_dir/a.log" tcp-connected 30 || e2e_die "$name: A did not connect"
  mark flows-up
  failover_wait_synced j2 15 || e2e_log "$name: j2 does not hold A's sessions"
  sleep 1

  mark failover
  router_dies j1
  vip_wait j2 30 || e2e_die "$name: j2 did not take the address"
  mark on-j2
  e2e_log "$name: j1 died, j2 holds the address"
  flows_start c "$case_dir/b.log" client "$DESTINATION" "$B_TCP" "$B_UDP" 30002 \
    "$INTERVAL_MS" "$TIMEOUT_MS"
  b=$FLOWS_PID
  wait_for_line "$case_dir/b.log" tcp-connected 30 || e2e_die "$name: B did not connect"
  sleep 3

  mark failback
  # A rebooted router: an empty table, its cables in, keepalived at boot.
  jool_in j1 instance remove default || e2e_die "cannot remove j1's instance"
  topo_instance_add j1
  ip -n sync link set port1 up
  ip -n lan4 link set j1 up
  ip -n lan6 link set j1 up
  keepalived_start j1 "$case_dir/j1.keepalived.conf"
  sleep "$JOOLD_DELAY_S"
  mark joold-start
  joold_start j1
  # Its start competes with both keepalived's scripts for the VM's CPU.
  daemon_wait_ready j1 90 "$E2E_SYNC_PORT" || e2e_die "j1's daemon did not start again"
  vip_wait j1 60 || e2e_log "$name: j1 did not take the address back"
  mark on-j1
  e2e_log "$name: j1 holds the address again"
  ip netns exec j1 "$BIN/joold" status >"$case_dir/status/j1.txt" 2>&1
  echo "$?" >"$case_dir/status/j1.exit"
  sleep 4
  mark case-end
  kill -TERM "$a" "$b"
  wait_for_line "$case_dir/a.log" ' end ' 10 || e2e_log "A did not end"
  wait_for_line "$case_dir/b.log" ' end ' 10 || e2e_log "B did not end"
  kill "$watcher"
  daemons_stop
  cp -r "$E2E_OUT/daemons" "$case_dir/daemons"
  rm -rf "$E2E_OUT/daemons"
  failover_instances_renew
  e2e_log "$name: done (A: $(grep -cE 'tcp-(timeout|reset)' "$case_dir/a.log") timeouts or" \
    "resets; B: $(grep -cE 'tcp-(timeout|reset)' "$case_dir/b.log"))"
}

failover_setup vrrp
mkdir -p "$DIR" && install -d -m 0755 "$BIN"
ours_stand_in "$BIN/joold"
# keepalived runs it as nobody: a Deno cache it may write, as the compiled
# executable needs none.
sed -i 's|DENO_DIR=/tmp/deno-dir |DENO_DIR=/tmp/deno-dir-scripts |' "$BIN/joold"
install -d -m 1777 /tmp/deno-dir-scripts
flows_start s "$DIR/a-server.log" server "$A_TCP" "$A_UDP"
a_server=$FLOWS_PID
flows_start s "$DIR/b-server.log" server "$B_TCP" "$B_UDP"
b_server=$FLOWS_PID
wait_for_line "$DIR/a-server.log" server-ready 30 || e2e_die "A's server did not start"
wait_for_line "$DIR/b-server.log" server-ready 30 || e2e_die "B's server did not start"
run_case gated yes
run_case ungated no
kill "$a_server" "$b_server"
e2e_finish
