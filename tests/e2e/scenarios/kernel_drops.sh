#!/usr/bin/env bash
# kernel-drops: sessions the kernel drops before any daemon sees them. j1's
# ss-capacity is set to 64 and its modsocket leaves it there ("ss capacity":
# false: joold would not lower it that far). Our daemon ACKs so fast that a
# burst alone never fills 64, so j1's daemon is SIGSTOPped while a burst of
# UDP flows goes through j1 and continued 1 s after: the kernel's joold queue
# overflows (JSTAT_JOOLD_SSS_ENOSPC; Jool 4.1.9 has no ss-capacity and sets
# aside what does not fit its one pending message, which "ss max payload":
# false keeps at Jool's 1452 bytes). j2 must end with every session of j1's
# table within 30 s of the burst. The same with "reliable delivery": false is
# the control: j2 must then lack some.
# Leaves in drops/: CASE.counts ("j1 N", "j2 N" and "seconds S": the burst's
# sessions on each node, how long after the burst j2 caught up, or "never"),
# CASE.j1.stats (Jool's counters of j1), the daemons' JSON counters in stats/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
readonly stats_port=45678 burst=${JOOLD_E2E_DROPS_BURST:-3000}
topo_setup 2
out=$E2E_OUT/drops
mkdir -p "$out"
topo_burst_pool4 j1 j2
if jool_in j1 global display | grep -q '^ *ss-capacity:'; then
  jool_in j1 global update ss-capacity 64 || e2e_die "cannot set ss-capacity"
fi

# burst_count FIRST_PORT NODE: NODE's UDP sessions from c1's ports FIRST_PORT...+burst.
burst_count() {
  jool_in "$2" session display --udp --numeric --csv --no-headers |
    awk -F, -v first="$1" -v n="$burst" \
      '$2 == "2001:db8:1::2" && $3 >= first && $3 < first + n { c++ } END { print c + 0 }'
}

# run_case NAME FIRST_PORT [MEMBER]: MEMBER goes into both netsockets.
run_case() {
  local name=$1 first=$2 member=${3:-} node started result=never
  case_start "$name" "$stats_port" "" "$member" '"ss capacity": false, "ss max payload": false'
  # Soon after the start's offer of the table: the offer for the drops keeps
  # a pace of its own (docs/lossless.md), the start's must not delay it.
  sleep 4
  jool_in j1 stats display --all --csv >"$out/$name.j1.stats.before"
  kill -STOP "$(daemon_pid j1)"
  traffic_udp_flows j1 "$burst" "$first"
  sleep 1
  kill -CONT "$(daemon_pid j1)"
  started=$SECONDS
  until [ "$SECONDS" -ge $((started + 30)) ]; do
    if [ "$(burst_count "$first" j2)" -ge "$(burst_count "$first" j1)" ]; then
      result=$((SECONDS - started))
      break
    fi
    sleep 1
  done
  jool_in j1 stats display --all --csv >"$out/$name.j1.stats"
  {
    for node in j1 j2; do
      echo "$node $(burst_count "$first" "$node")"
    done
    echo "seconds $result"
  } >"$out/$name.counts"
  case_end "$name" "$out/$name.counts" "$stats_port"
}

run_case repaired 20000
run_case off 24000 '"reliable delivery": false'
e2e_finish
