#!/usr/bin/env bash
# tools-proxy-follow: `joold proxy` with Jool 4.1.15's `jool session proxy`
# flags on j1, Jool's own `jool session proxy` on j2 (before 4.1.14, which
# has none: the C joold with files), over IPv6 multicast. Three `joold
# follow`s run next to them the whole time (text and CSV in j1, JSON in j2,
# each on the kernel's group and the sync group), and one `joold follow |
# head -n 1` in j1. Also records the defaults both proxies print.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"

readonly DIR=$E2E_OUT/tools
readonly STATS_PORT=6470
readonly PROXY_FLAGS=(--net.dev.in=sync0 --net.dev.out=sync0 "--net.mcast.port=$E2E_SYNC_PORT"
  --net.ttl=3)

# ours_argv: sets OURS to the command line of our joold (the bundle, with the
# executable's permissions and V8 flags), without its arguments.
ours_argv() {
  e2e_ours_flags
  OURS=(env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
    "$E2E_DENO" run "${E2E_FLAGS[@]}" --no-config "$E2E_BUNDLE")
}

# follow_start NAME NODE ARG...: `joold follow ARG...` in NODE, in the
# background; $DIR/NAME.{cmd,stdout,stderr,pid}, and NAME.exit once it ends.
follow_start() {
  local name=$1 node=$2
  shift 2
  printf '%q ' joold follow "$@" >"$DIR/$name.cmd"
  (
    ip netns exec "$node" "${OURS[@]}" follow "$@" >"$DIR/$name.stdout" 2>"$DIR/$name.stderr" &
    echo "$!" >"$DIR/$name.pid"
    wait "$!"
    echo "$?" >"$DIR/$name.exit"
  ) &
}

# follow_wait_ready NAME: until NAME says it follows (it logs at info level).
follow_wait_ready() {
  local deadline=$((SECONDS + 30))
  until grep -q "Following instance" "$DIR/$1.stderr" 2>/dev/null; do
    [ -s "$DIR/$1.exit" ] && e2e_die "joold follow ($1) ended early: $(cat "$DIR/$1.stderr")"
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "joold follow ($1) did not start"
    sleep 0.2
  done
}

# wait_file FILE TIMEOUT: until FILE is not empty.
wait_file() {
  local deadline=$((SECONDS + $2))
  until [ -s "$1" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.2; done
}

topo_setup 2
mkdir -p "$DIR"
ours_argv

# The defaults each proxy prints, in a namespace without an instance (Jool's
# prints them first; ours exits once it finds no instance).
if jool session proxy --help >/dev/null 2>&1; then
  echo jool-session-proxy >"$DIR/peer.txt"
  for extra in "" --stats.port=7000 --stats.address=2001:db8::1; do
    # shellcheck disable=SC2086 # no extra is no word
    ip netns exec sync timeout 5 stdbuf -oL jool session proxy $extra "$E2E_MCAST6" \
      >>"$DIR/defaults.jool" 2>&1
  done
else
  echo joold-files >"$DIR/peer.txt"
fi
for extra in "" --stats.port=7000 --stats.address=2001:db8::1; do
  # shellcheck disable=SC2086
  ip netns exec sync timeout 60 "${OURS[@]}" proxy $extra "$E2E_MCAST6" \
    >>"$DIR/defaults.ours" 2>/dev/null
done

printf '%q ' joold -i default proxy "${PROXY_FLAGS[@]}" >"$DIR/j1.proxy.cmd"
# The instance before the command, as in jool (-i after it is --net.dev.in).
daemon_launch j1 "${OURS[@]}" -i default proxy "${PROXY_FLAGS[@]}" \
  --stats.address=::1 "--stats.port=$STATS_PORT" "$E2E_MCAST6"
if [ "$(cat "$DIR/peer.txt")" = jool-session-proxy ]; then
  daemon_launch j2 jool -i default session proxy "${PROXY_FLAGS[@]}" "$E2E_MCAST6"
else
  # Before 4.1.13 Jool's joold shares the group's port (SO_REUSEADDR), which
  # the follower next to it needs, only when its file says so.
  netsocket_write j2 6 "$E2E_OUT/config/j2.netsocket.json"
  sed -i '1a\  "reuseaddr": 1,' "$E2E_OUT/config/j2.netsocket.json"
  modsocket_write "$E2E_OUT/config/j2.modsocket.json"
  start_reference j2 "$E2E_OUT/config/j2.netsocket.json" "$E2E_OUT/config/j2.modsocket.json"
fi
daemon_wait_ready j1 30 "$E2E_SYNC_PORT" "$STATS_PORT" || e2e_die "joold proxy did not start"
daemon_wait_ready j2 30 "$E2E_SYNC_PORT" || e2e_die "the reference proxy did not start"

follow_start text j1 --log-level=info --net.dev.in=sync0 -p "$E2E_SYNC_PORT" "$E2E_MCAST6"
follow_start csv j1 --log-level=info --csv --net.dev.in=sync0 -p "$E2E_SYNC_PORT" "$E2E_MCAST6"
follow_start json j2 --log-level=info --json --net.dev.in=sync0 -p "$E2E_SYNC_PORT" "$E2E_MCAST6"
for name in text csv json; do follow_wait_ready "$name"; done
# `joold follow | head -n 1`: it must end by itself, status 0, saying nothing.
(
  ip netns exec j1 timeout 120 "${OURS[@]}" follow 2>"$DIR/head.stderr" | head -n 1 >"$DIR/head.stdout"
  echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}" >"$DIR/head.status"
) &
sleep 3
e2e_log "proxies and followers ready"

traffic_all j1
traffic_all j2
# More batches after the first line, for the follower under head to write to.
traffic_udp j1 7779
sleep "$E2E_FLOW_GAP"
traffic_udp j1 7780
sessions_wait_sync 20
wait_file "$DIR/head.status" 30
sleep 2
for name in text csv json; do kill -INT "$(cat "$DIR/$name.pid")"; done
for name in text csv json; do wait_file "$DIR/$name.exit" 10; done
stats_json j1 "$STATS_PORT" j1
sessions_dump
e2e_finish
