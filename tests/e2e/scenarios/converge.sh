#!/usr/bin/env bash
# converge: what no sequence number sees, repaired by the convergence check.
# j2's instance has ss-enabled false and its daemon leaves it so ("enable ss":
# false) while a few UDP flows go through j1: j1's daemon relays them, j2's
# gets every datagram (nothing for reliable delivery to NACK) and its kernel
# refuses the sessions. Then j2's session sync is turned on again. Nothing but
# the convergence check can bring those sessions to j2: its first round, 90 s
# after the daemons' start, counts them (idle a minute by then) on j1 and not
# on j2, and j1 sends their buckets 30 s later. j2's count a minute after the
# burst, before the round, is the control: the sessions were missing.
# Leaves in converge/: counts ("j1 N", "j2-before N", "j2 N", "seconds S": how
# long after the burst j2 held them all, or "never"), the daemons' JSON
# counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 flows=12 first=21000
topo_setup 2
out=$E2E_OUT/converge
mkdir -p "$out"
jool_in j2 global update ss-enabled false || e2e_die "cannot disable session sync in j2"

# burst_count NODE: NODE's UDP sessions of the burst (c1's ports first...+flows).
burst_count() {
  jool_in "$1" session display --udp --numeric --csv --no-headers |
    awk -F, -v first="$first" -v n="$flows" \
      '$2 == "2001:db8:1::2" && $3 >= first && $3 < first + n { c++ } END { print c + 0 }'
}

case_daemon j1 converge "$stats_port"
case_daemon j2 converge "$stats_port" "" "" '"enable ss": false'
for node in j1 j2; do
  daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$stats_port" || e2e_die "$node did not start"
done
# After the start's offers of the table (3 s after a start): they must not carry the burst.
sleep 10
traffic_udp_flows j1 "$flows" "$first"
burst=$SECONDS
# Reliable delivery's LEDGERs and checks are over well within this: j2 got every datagram.
sleep 5
jool_in j2 global update ss-enabled true || e2e_die "cannot enable session sync in j2"
sleep $((burst + 60 - SECONDS))
before=$(burst_count j2)
result=never
until [ "$SECONDS" -ge $((burst + 200)) ]; do
  if [ "$(burst_count j2)" -ge "$flows" ]; then
    result=$((SECONDS - burst))
    break
  fi
  sleep 1
done
{
  echo "j1 $(burst_count j1)"
  echo "j2-before $before"
  echo "j2 $(burst_count j2)"
  echo "seconds $result"
} >"$out/counts"
for node in j1 j2; do
  stats_json "$node" "$stats_port" "$node.converge"
done
e2e_log "converge: $(tr '\n' ' ' <"$out/counts")"
e2e_finish
