#!/usr/bin/env bash
# tools-follow-alone: `joold session follow` (ours: `follow --ack
# --format=jool`) where no daemon runs, as `jool session follow` is meant to
# log every connection. One node, no joold:
#   1. ours alone while 30,000 UDP sessions are made through j1
#      (bench/load_generator.ts): it must print every one of them, and the
#      kernel must drop none (JSTAT_JOOLD_SSS_ENOSPC);
#   2. ours and Jool's own `jool session follow` side by side during 2,000
#      more: their lines must be equal, line by line.
# Leaves in follow/: alone.{stdout,stderr}, ours.{stdout,stderr},
# jool.{stdout,stderr}, stats.{before,after} (Jool's counters), load*.txt.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"

readonly DIR=$E2E_OUT/follow
readonly BURST=${JOOLD_E2E_FOLLOW_BURST:-30000} SIDE_BY_SIDE=2000
topo_setup 1
mkdir -p "$DIR" /tmp/follow-bin
topo_burst_pool4 j1
ours_stand_in /tmp/follow-bin/joold

# follow_start NAME COMMAND...: COMMAND in j1 in the background, its output in NAME.*.
follow_start() {
  local name=$1
  shift
  ip netns exec j1 "$@" >"$DIR/$name.stdout" 2>"$DIR/$name.stderr" &
  echo "$!" >"$DIR/$name.pid"
}

# follow_stop NAME: SIGINT, as a person at the terminal stops it; SIGKILL
# after 5 s (`jool session follow` goes on after SIGINT; line-buffered, it
# loses nothing).
follow_stop() {
  local pid deadline=$((SECONDS + 5))
  pid=$(cat "$DIR/$1.pid")
  kill -INT "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "$?" >"$DIR/$1.exit"
}

# lines_wait NAME COUNT TIMEOUT: until NAME.stdout has COUNT lines (or more) or TIMEOUT passes.
lines_wait() {
  local deadline=$((SECONDS + $3))
  until [ "$(grep -c . "$DIR/$1.stdout")" -ge "$2" ] || [ "$SECONDS" -ge "$deadline" ]; do
    sleep 0.5
  done
}

# burst COUNT FIRST_INDEX NAME: COUNT new UDP sessions through j1.
burst() {
  run_deno_tool c1 bench/load_generator.ts --count "$1" --rate 5000 --first-index "$2" \
    --destination "64:ff9b::$E2E_SERVER4" --first-port 1024 --ports-per-address 30000 \
    >"$DIR/$3.txt" 2>&1 || e2e_die "the load generator failed: $(cat "$DIR/$3.txt")"
}

jool_in j1 stats display --all --csv >"$DIR/stats.before"
follow_start alone /tmp/follow-bin/joold -i default session follow
deadline=$((SECONDS + 30))
until grep -q "ACK mode" "$DIR/alone.stderr"; do
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "joold follow did not start: $(cat "$DIR/alone.stderr")"
  sleep 0.2
done
burst "$BURST" 0 load
lines_wait alone "$BURST" 60
follow_stop alone
jool_in j1 stats display --all --csv >"$DIR/stats.after"
e2e_log "alone: $(grep -c . "$DIR/alone.stdout") lines for $BURST sessions"

# Side by side with Jool's own (line-buffered: killed, a block-buffered one would lose its tail).
follow_start jool stdbuf -oL jool -i default session follow
follow_start ours /tmp/follow-bin/joold -i default session follow
deadline=$((SECONDS + 30))
until grep -q "ACK mode" "$DIR/ours.stderr" && [ -s "$DIR/jool.stdout" ]; do
  [ "$SECONDS" -lt "$deadline" ] || e2e_die "the followers did not start"
  sleep 0.2
done
burst "$SIDE_BY_SIDE" "$BURST" load-side
lines_wait ours "$SIDE_BY_SIDE" 60
sleep 3
follow_stop ours
follow_stop jool
e2e_log "side by side: ours $(grep -c . "$DIR/ours.stdout") lines, jool's $(grep -c . "$DIR/jool.stdout")"
e2e_finish
