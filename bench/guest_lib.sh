# shellcheck shell=bash
# What the benchmarks that run INSIDE the VM share (bench/sync_guest.sh,
# bench/convergence_guest.sh source it): the e2e topology, the daemons' CPU,
# memory, wire and stats readings, fresh instances, and ours started as
# shipped. The sourcing script then sets BENCH_DIR (its results directory).

source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib/topology.sh"

readonly STATS_PORT=45678
# Room for 30k+ UDP sessions (100k for the memory run): the topology's pool4
# (4,535 ports) is far too small. Kept below half full, so Jool's port search
# stays short. Identical on both nodes, like the rest of the translators.
# Outside the namespace's ephemeral ports (32768-60999), which Jool 4.1.11+
# refuses in pool4.
readonly BENCH_POOL4_UDP=("192.0.2.1 1024-32767" "192.0.2.3 1024-32767" "192.0.2.3 61000-65535"
  "192.0.2.4 1024-32767" "192.0.2.4 61000-65535" "192.0.2.5 1024-32767" "192.0.2.5 61000-65535"
  "192.0.2.6 1024-32767")
readonly CLK_TCK=$(getconf CLK_TCK)

# bench_reset_instances [MAX_PAYLOAD]: a fresh Jool instance on every node
# (no sessions, globals at their defaults plus what the topology sets, and
# ss-max-payload if given), daemons stopped.
bench_reset_instances() {
  local node p range max_payload=${1:-}
  daemons_stop
  for node in "${E2E_NODES[@]}"; do
    jool_in "$node" instance remove default || e2e_die "cannot remove the instance in $node"
    jool_in "$node" instance add default --netfilter --pool6 "$E2E_POOL6" ||
      e2e_die "cannot add the instance in $node"
    for p in "${E2E_PROTOCOLS[@]}"; do
      jool_in "$node" pool4 add "$E2E_POOL4" "$E2E_POOL4_PORTS" "--$p" ||
        e2e_die "cannot add pool4 in $node"
    done
    for range in "${BENCH_POOL4_UDP[@]}"; do
      # shellcheck disable=SC2086 # address and port range
      jool_in "$node" pool4 add $range --udp || e2e_die "cannot add pool4 $range in $node"
    done
    jool_in "$node" global update ss-enabled true || e2e_die "cannot enable SS in $node"
    jool_in "$node" global update ss-flush-asap true || e2e_die "cannot set ss-flush-asap in $node"
    if [ -n "$max_payload" ]; then
      jool_in "$node" global update ss-max-payload "$max_payload" ||
        e2e_die "cannot set ss-max-payload in $node"
    fi
  done
}

# bench_sessions NODE: the node's session count (all protocols), from Jool's
# own counter: listing 100k sessions would take seconds under TCG.
bench_sessions() {
  jool_in "$1" stats display --csv --no-headers | awk -F, '$1 == "JSTAT_SESSIONS" { n = $2 } END { print n + 0 }'
}

# bench_proc NODE: "user_seconds system_seconds rss_kib hwm_kib anon_kib
# file_kib" of the daemon in NODE (CPU of all its threads; resident memory:
# all of it, its peak, what it allocated, and the mapped files' pages).
bench_proc() {
  local pid
  pid=$(daemon_pid "$1")
  awk -v tck="$CLK_TCK" '
    FILENAME ~ /stat$/ { sub(/^.*\) /, ""); split($0, f, " "); user = f[12] / tck; sys = f[13] / tck }
    FILENAME ~ /status$/ && $1 == "VmRSS:" { rss = $2 }
    FILENAME ~ /status$/ && $1 == "VmHWM:" { hwm = $2 }
    FILENAME ~ /status$/ && $1 == "RssAnon:" { anon = $2 }
    FILENAME ~ /status$/ && $1 == "RssFile:" { file = $2 }
    END { printf "%.2f %.2f %d %d %d %d\n", user, sys, rss, hwm, anon, file }' \
    "/proc/$pid/stat" "/proc/$pid/status"
}

# bench_delta BEFORE AFTER: AFTER - BEFORE with two decimals.
bench_delta() {
  awk -v a="$2" -v b="$1" 'BEGIN { printf "%.2f", a - b }'
}

# bench_wire NODE: "bytes packets" NODE has sent on the sync link so far
# (every port's datagrams: sync, control, resync), before any loss.
bench_wire() {
  ip -n "$1" -s link show dev sync0 | awk '/TX:/ { getline; print $1, $2; exit }'
}

# bench_stats_json NODE NAME: our daemon's JSON stats (empty for the C joold).
bench_stats_json() {
  echo json | ip netns exec "$1" nc -u -w1 ::1 "$STATS_PORT" >"$BENCH_DIR/$2.json" 2>/dev/null
  [ -s "$BENCH_DIR/$2.json" ] || echo null >"$BENCH_DIR/$2.json"
}

# The key of the ours-auth runs: fixed, the guest's /tmp is fresh and private.
readonly BENCH_KEY=/tmp/bench.key
(umask 077 && printf 'key 1 %s current\n' "$(printf '5a%.0s' {1..32})" >"$BENCH_KEY")

# bench_start KIND [MAX_PAYLOAD]: daemons of KIND on every node, ready; ours
# with "ss max payload": MAX_PAYLOAD if given.
bench_start() {
  local kind=$1 max_payload=${2:-} node net mod members
  for node in "${E2E_NODES[@]}"; do
    net=$E2E_OUT/config/$node.netsocket.json
    mod=$E2E_OUT/config/$node.modsocket.json
    netsocket_write "$node" 6 "$net"
    case $kind in ours-auth | ours-auth-off)
      sed -i "s|\"ttl\": 3|\"ttl\": 3, \"auth key file\": \"$BENCH_KEY\"|" "$net"
      ;;
    esac
    case $kind in ours-off | ours-auth-off)
      sed -i "s|\"ttl\": 3|\"ttl\": 3, \"reliable delivery\": false|" "$net"
      ;;
    esac
    if [ "$kind" != reference ]; then
      members=${BENCH_OURS_ARGS:-}
      if [ -n "$max_payload" ]; then
        members="${members:+$members, }\"ss max payload\": $max_payload"
      fi
      modsocket_write "$mod" default "$members"
      # The bench's V8 flags come after the daemon's own (a later flag wins).
      # shellcheck disable=SC2001 # one substitution per node
      E2E_OURS_EXTRA_V8_FLAGS="$(sed "s|%n|$node|g" <<<"${BENCH_V8_FLAGS:-}")" \
        start_ours "$node" "$net" "$mod" "$STATS_PORT"
    else
      modsocket_write "$mod"
      start_reference "$node" "$net" "$mod"
    fi
  done
  for node in "${E2E_NODES[@]}"; do
    if [ "$kind" != reference ]; then
      daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT" "$STATS_PORT"
    else
      daemon_wait_ready "$node" 60 "$E2E_SYNC_PORT"
    fi || e2e_die "the $kind daemon in $node did not start"
  done
  # Ours asks its peers for their sessions at start; let that finish.
  sleep 2
}

# bench_deno NAMESPACE SCRIPT ARG...: one of the project's Deno scripts in
# NAMESPACE (offline: the guest has no network and an empty /tmp).
bench_deno() {
  local namespace=$1 script=$2
  shift 2
  ip netns exec "$namespace" env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
    "$E2E_DENO" run --allow-ffi --allow-read --no-config "$E2E_REPO/$script" "$@"
}

# bench_guest_setup: after topo_setup, the guest as every benchmark wants it:
# syslog in memory, Deno run from memory, and machine.txt in BENCH_DIR.
bench_guest_setup() {
  # The C joold syslogs every batch at debug level (6 lines per batch). The
  # topology's syslogd writes them to the results share, which under TCG costs
  # the whole VM more than the daemons do; log to the guest's memory instead
  # (every level kept, as Debian's rsyslog would).
  kill "$(pidof syslogd)" 2>/dev/null
  busybox syslogd -O /tmp/syslog.log
  # Run Deno from the guest's own memory, as an installed joold runs from a
  # local disk: over the 9p share every code page the daemon first executes
  # is a separate read, which makes its resident code creep up for longer.
  if [ "${BENCH_DENO_LOCAL:-1}" = 1 ]; then
    cp "$E2E_DENO" /tmp/deno && E2E_DENO=/tmp/deno || e2e_die "cannot copy Deno into the guest"
  fi
  {
    echo "kernel $(uname -r), Jool $(cat /sys/module/jool/version), $(nproc) CPUs"
    grep -m1 'model name' /proc/cpuinfo
    echo "deno $("$E2E_DENO" --version | head -1)"
  } >"$BENCH_DIR/machine.txt"
}
