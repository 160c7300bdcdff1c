# shellcheck shell=bash
# Starts and stops session-sync daemons inside the end-to-end test VM; sourced
# by tests/e2e/lib/topology.sh. Each daemon runs in a translator's network
# namespace and leaves, in $E2E_OUT/daemons/: NODE.cmd (its command line),
# NODE.stdout, NODE.stderr, NODE.pid, NODE.exit once it has ended, and
# NODE.stopped if the harness had to signal it (it did not end by itself).
#
#   start_ours NODE NETSOCKET MODSOCKET [PORT]       this project's joold
#   start_reference NODE NETSOCKET MODSOCKET [PORT]  Jool's C joold
#
# Ours runs as the bundle the host built before booting (dist/joold.js), with
# the project's pinned Deno binary and exactly the permissions and V8 flags
# the compiled executable embeds (scripts/runtime_flags.ts: the host passes
# them as JOOLD_E2E_OURS_FLAGS); the guest has no network and its /tmp is
# empty, so DENO_DIR must be a fresh writable directory.
# JOOLD_E2E_OURS=reference makes start_ours start the C joold instead: a check
# of the harness itself, for when ours is broken or absent.

E2E_REPO=${E2E_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
# The pinned Deno (scripts/deno.sh) as the binary itself, not a symlink: the
# guest runs it from this machine's files, read-only.
e2e_find_deno() {
  local candidate
  for candidate in "$E2E_REPO/scripts/toolchain/node_modules/.bin/deno" \
    "$E2E_REPO/node_modules/.bin/deno"; do
    if [ -e "$candidate" ]; then
      readlink -f "$candidate"
      return
    fi
  done
}
E2E_DENO=${JOOLD_E2E_DENO:-$(e2e_find_deno)}
E2E_BUNDLE=${JOOLD_E2E_BUNDLE:-$E2E_REPO/dist/joold.js}
# The VM's Jool version's C joold (scripts/vm/run_vm.sh puts it first on PATH).
E2E_REFERENCE=${JOOLD_E2E_REFERENCE:-$(command -v joold)}

# e2e_ours_flags: sets the array E2E_FLAGS to the shipped permissions and V8
# flags (from the host, else asked of scripts/runtime_flags.ts: ~2 s under
# TCG). No process substitution: the guest's /dev has no /dev/fd.
e2e_ours_flags() {
  if [ -z "${JOOLD_E2E_OURS_FLAGS:-}" ]; then
    JOOLD_E2E_OURS_FLAGS=$(DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
      "$E2E_DENO" run --no-config "$E2E_REPO/scripts/runtime_flags.ts") ||
      e2e_die "cannot read the runtime flags from scripts/runtime_flags.ts"
    export JOOLD_E2E_OURS_FLAGS
  fi
  read -r -a E2E_FLAGS <<<"$JOOLD_E2E_OURS_FLAGS"
}

# daemon_launch NODE COMMAND [ARG...]: runs COMMAND in namespace NODE in the
# background and records its pid, output and, when it ends, its exit status.
daemon_launch() {
  daemon_launch_as "$1" "$@"
}

# daemon_launch_as NAME NODE COMMAND [ARG...]: daemon_launch, with the record
# under NAME (another daemon of the same namespace).
daemon_launch_as() {
  local node=$1 namespace=$2 dir=$E2E_OUT/daemons
  shift 2
  mkdir -p "$dir"
  rm -f "$dir/$node".{pid,exit,exit_us,stopped}
  printf '%q ' "$@" >"$dir/$node.cmd"
  echo >>"$dir/$node.cmd"
  (
    ip netns exec "$namespace" "$@" >"$dir/$node.stdout" 2>"$dir/$node.stderr" &
    echo "$!" >"$dir/$node.pid"
    wait "$!"
    status=$?
    # When it ended, for daemons_stop's stop time: taken here, as the
    # process ends, not when the harness next looks.
    echo "${EPOCHREALTIME/./}" >"$dir/$node.exit_us"
    echo "$status" >"$dir/$node.exit"
  ) &
  until [ -s "$dir/$node.pid" ]; do sleep 0.05; done
}

# start_ours NODE NETSOCKET MODSOCKET [PORT]: this project's joold in NODE.
# (E2E_OURS_OPTIONS: extra options for our joold, word-split, e.g. "--metrics-port 9464";
# E2E_OURS_EXTRA_V8_FLAGS: V8 flags after the shipped ones, for the benchmark's diagnostics.)
start_ours() {
  local node=$1 netsocket=$2 modsocket=$3
  shift 3
  if [ "${JOOLD_E2E_OURS:-}" = reference ]; then
    start_reference "$node" "$netsocket" "$modsocket" "$@"
    return
  fi
  [ -x "$E2E_DENO" ] || e2e_die "no Deno binary: run scripts/deno.sh on the host first"
  [ -f "$E2E_BUNDLE" ] || e2e_die "no bundle at $E2E_BUNDLE: build it on the host before booting"
  local i
  e2e_ours_flags
  if [ -n "${E2E_OURS_EXTRA_V8_FLAGS:-}" ]; then
    for i in "${!E2E_FLAGS[@]}"; do
      [[ ${E2E_FLAGS[i]} == --v8-flags=* ]] && E2E_FLAGS[i]+=",$E2E_OURS_EXTRA_V8_FLAGS"
    done
  fi
  # shellcheck disable=SC2086 # E2E_OURS_OPTIONS is a list of words
  daemon_launch "$node" env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
    "$E2E_DENO" run "${E2E_FLAGS[@]}" --no-config "$E2E_BUNDLE" \
    ${E2E_OURS_OPTIONS:-} \
    "$netsocket" "$modsocket" "$@"
}

# run_ours_command NODE NAME ARG...: runs this project's joold with ARG... (an
# operator command such as `check NETSOCKET MODSOCKET`) in NODE and waits for
# it; leaves $E2E_OUT/commands/NAME.{cmd,stdout,stderr,exit}. Returns its
# exit status.
run_ours_command() {
  local node=$1 name=$2 dir=$E2E_OUT/commands status
  shift 2
  [ -x "$E2E_DENO" ] || e2e_die "no Deno binary: run scripts/deno.sh on the host first"
  [ -f "$E2E_BUNDLE" ] || e2e_die "no bundle at $E2E_BUNDLE: build it on the host before booting"
  mkdir -p "$dir"
  printf '%q ' joold "$@" >"$dir/$name.cmd"
  echo >>"$dir/$name.cmd"
  e2e_ours_flags
  ip netns exec "$node" env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
    "$E2E_DENO" run "${E2E_FLAGS[@]}" --no-config "$E2E_BUNDLE" "$@" \
    >"$dir/$name.stdout" 2>"$dir/$name.stderr"
  status=$?
  echo "$status" >"$dir/$name.exit"
  return "$status"
}

# run_deno_tool NAMESPACE SCRIPT ARG...: runs one of the project's Deno
# scripts (path relative to the repository, e.g. tests/e2e/lib/udp_flows.ts)
# in NAMESPACE and waits for it. Such scripts import only relative modules,
# so they run offline without the project's configuration. They are test
# tools (traffic, forged datagrams), not joold: --allow-all spares each one
# its own permission list.
run_deno_tool() {
  local namespace=$1 script=$2
  shift 2
  [ -x "$E2E_DENO" ] || e2e_die "no Deno binary: run scripts/deno.sh on the host first"
  ip netns exec "$namespace" env DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
    "$E2E_DENO" run --allow-all --no-config "$E2E_REPO/$script" "$@"
}

# session_watch_start NODE CLIENT_ADDRESS POLL_MS DIR: bench/window_watch.ts
# lists NODE's UDP sessions from CLIENT_ADDRESS in the background (its pid in
# WATCH_PID), the first sight of each in DIR/seen.txt and every listing in
# DIR/polls.txt; returns once the first listing is done.
session_watch_start() {
  local dir=$4 deadline=$((SECONDS + 30))
  run_deno_tool "$1" bench/window_watch.ts "$2" "$3" "$dir/polls.txt" \
    >"$dir/seen.txt" 2>"$dir/watch.err" &
  WATCH_PID=$!
  until [ -s "$dir/polls.txt" ]; do
    [ "$SECONDS" -lt "$deadline" ] || e2e_die "the session watcher in $1 did not start ($dir)"
    sleep 0.1
  done
}

# sessions_seen DIR: how many of the source ports in DIR/created.txt the
# watcher saw (DIR/seen.txt).
sessions_seen() {
  awk 'NR == FNR { created[$2] = 1; next } $2 in created { n++ } END { print n + 0 }' \
    "$1/created.txt" "$1/seen.txt"
}

# capture_valid_batch OUT JOOL_VERSION COMMAND...: listens on the sync group
# from the stranger g (tests/e2e/lib/garbage_datagrams.ts capture) while
# COMMAND makes traffic, and leaves the first valid batch in OUT/base.bin,
# the raw material of forged and mutated datagrams; then waits for j2 to
# have j1's sessions.
capture_valid_batch() {
  local out=$1 jool_version=$2 capture
  shift 2
  run_deno_tool g tests/e2e/lib/garbage_datagrams.ts capture --out "$out/base.bin" \
    --jool-version "$jool_version" --timeout 30 >"$out/capture.txt" 2>&1 &
  capture=$!
  udp_port_wait g "$E2E_SYNC_PORT" 30 || e2e_die "the capture did not start"
  "$@"
  wait "$capture" || e2e_die "no valid batch captured: $(cat "$out/capture.txt")"
  e2e_log "$(cat "$out/capture.txt")"
  sessions_wait_sync 15 || e2e_die "j1's first sessions did not reach j2"
}

# start_reference NODE NETSOCKET MODSOCKET [PORT]: Jool's C joold in NODE
# (4.1.9 ignores PORT: it has no stats server).
start_reference() {
  local node=$1 netsocket=$2 modsocket=$3
  shift 3
  [ -x "$E2E_REFERENCE" ] || e2e_die "no reference joold at $E2E_REFERENCE"
  daemon_launch "$node" "$E2E_REFERENCE" "$netsocket" "$modsocket" "$@"
}

daemon_pid() {
  cat "$E2E_OUT/daemons/$1.pid" 2>/dev/null
}

# daemon_exited NODE: true once the daemon of NODE has ended.
daemon_exited() {
  [ -s "$E2E_OUT/daemons/$1.exit" ]
}

# daemon_wait_ready NODE TIMEOUT PORT...: waits until the daemon of NODE has
# bound every UDP PORT (the multicast port, the stats port). Fails early if the
# daemon ends. Binding is the last step of the reference daemon's network
# setup; a short grace period covers the Netlink side.
daemon_wait_ready() {
  local node=$1 timeout=$2 deadline port
  shift 2
  deadline=$((SECONDS + timeout))
  for port in "$@"; do
    until udp_port_bound "$node" "$port"; do
      if daemon_exited "$node"; then
        echo "daemon in $node ended early with status $(cat "$E2E_OUT/daemons/$node.exit")" >&2
        return 1
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "daemon in $node did not bind UDP port $port within ${timeout}s" >&2
        return 1
      fi
      sleep 0.1
    done
  done
  sleep 0.5
}

# udp_port_wait NODE PORT TIMEOUT: waits until some UDP socket of NODE is
# bound to PORT (a listener started in the background is ready); fails after
# TIMEOUT seconds.
udp_port_wait() {
  local deadline=$((SECONDS + $3))
  until udp_port_bound "$1" "$2"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# udp_port_bound NODE PORT: is some UDP socket of namespace NODE bound to PORT?
udp_port_bound() {
  local hex
  hex=$(printf ':%04X' "$2")
  ip netns exec "$1" cat /proc/net/udp /proc/net/udp6 |
    awk -v suffix="$hex" 'substr($2, length($2) - 4) == suffix { found = 1 } END { exit !found }'
}

# daemon_wait_exit NODE TIMEOUT: waits for the daemon of NODE to end by itself.
daemon_wait_exit() {
  local deadline=$((SECONDS + $2))
  until daemon_exited "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# daemon_signal_stop NODE: SIGTERM to NODE's daemon if it runs, as the
# scenario's end would (marked stopped, the signal's time on record).
daemon_signal_stop() {
  daemon_exited "$1" && return 0
  touch "$E2E_OUT/daemons/$1.stopped"
  echo "${EPOCHREALTIME/./}" >"$E2E_OUT/daemons/$1.term_us"
  kill -TERM "$(daemon_pid "$1")" 2>/dev/null
}

# daemon_wait_stopped NODE: waits until NODE's daemon has ended (SIGKILL
# after 5 s) and records in NODE.stop_ms how long it took after SIGTERM.
daemon_wait_stopped() {
  local node=$1 deadline=$((SECONDS + 5))
  until daemon_exited "$node"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "daemon in $node ignored SIGTERM; killing it" >&2
      kill -KILL "$(daemon_pid "$node")" 2>/dev/null
      deadline=$((SECONDS + 5))
    fi
    sleep 0.05
  done
  # From the signal to the moment its launcher saw it end (not to when a
  # loop, busy with the nodes before it, looked: under TCG that added a
  # second or more).
  if [ -s "$E2E_OUT/daemons/$node.term_us" ] && [ -s "$E2E_OUT/daemons/$node.exit_us" ]; then
    echo $((($(cat "$E2E_OUT/daemons/$node.exit_us") - $(cat "$E2E_OUT/daemons/$node.term_us")) / 1000)) \
      >"$E2E_OUT/daemons/$node.stop_ms"
  fi
}

# daemon_stop NODE: stops NODE's daemon as the scenario's end would.
daemon_stop() {
  daemon_signal_stop "$1"
  daemon_wait_stopped "$1"
}

# daemon_set_aside NODE NAME: keeps the record of NODE's ended daemon as
# NAME's (checked like any other), so that NODE can start another.
daemon_set_aside() {
  local file
  for file in "$E2E_OUT/daemons/$1".*; do
    [ -e "$file" ] && mv "$file" "$E2E_OUT/daemons/$2.${file##*/"$1".}"
  done
}

# daemons_stop: ends every daemon still running (SIGTERM, then SIGKILL after
# 5 s) and waits until each one's exit status is on record; NODE.stop_ms is
# how long it took after SIGTERM.
daemons_stop() {
  local file
  for file in "$E2E_OUT"/daemons/*.pid; do
    [ -e "$file" ] && daemon_signal_stop "$(basename "$file" .pid)"
  done
  for file in "$E2E_OUT"/daemons/*.pid; do
    [ -e "$file" ] && daemon_wait_stopped "$(basename "$file" .pid)"
  done
}
