#!/usr/bin/env bash
# unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR: runs a systemd service
# unit as systemd would, as far as joold's units need it, for the test VM,
# which has no systemd (tests/e2e/scenarios/install.sh).
#
# From UNIT_FILE and its drop-ins (UNIT_FILE.d/*.conf, then
# /etc/systemd/system/UNIT.d/*.conf; later ones win) it takes ExecStart=,
# NetworkNamespacePath=, Restart= (no or on-failure), RestartSec=,
# RestartPreventExitStatus=, Type= (simple or notify), WatchdogSec=, User=,
# Group=, AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges=,
# UMask= and RuntimeDirectory=, with %i replaced by INSTANCE (empty for a unit
# that is no template). It starts ExecStart= in that namespace (nsenter) with
# the unit's identity (setpriv: the user, its groups, the capabilities) and
# the environment systemd gives a service: only PATH, HOME, USER, LOGNAME,
# SHELL, INVOCATION_ID, RUNTIME_DIRECTORY, JOURNAL_STREAM (its stderr is
# "the journal" here), and with Type=notify NOTIFY_SOCKET (a listener,
# tests/e2e/lib/notify_listener.ts, logging to STATE_DIR/notify.log), plus
# WATCHDOG_USEC and WATCHDOG_PID with WatchdogSec=. The runtime directory is
# made, owned by the user. A service that sends no WATCHDOG=1 for
# WatchdogSec= gets SIGABRT, as from systemd. With Restart=on-failure it
# starts the service again RestartSec= after it ends with a non-zero status
# or is killed by a signal other than SIGHUP, SIGINT, SIGTERM or SIGPIPE,
# unless the status is listed in RestartPreventExitStatus=.
# StartLimit*= is not followed.
#
# SIGTERM or SIGINT stops the service (SIGTERM to it, as `systemctl stop`)
# and this script then exits with the service's status; SIGHUP runs
# ExecReload= (`/bin/kill -HUP $MAINPID`). The service writes to this
# script's stdout and stderr (the journal, here); this script's own lines
# on stderr start with "supervisor:". In STATE_DIR: `pid`, the running
# service's pid; `runs`, one line per run: "START_UPTIME PID", then
# " EXIT_STATUS END_UPTIME" once it ended; `ready`, the pid of the run that
# sent READY=1 (Type=notify); notify.log.
set -uo pipefail

unit=${1:?usage: unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR}
instance=$2
state=${3:?usage: unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR}

declare -A setting
for file in "$unit" "$unit.d"/*.conf "/etc/systemd/system/${unit##*/}.d"/*.conf; do
  [ -f "$file" ] || continue
  while IFS= read -r line; do
    [[ $line =~ ^([A-Za-z]+)=(.*)$ ]] || continue
    setting[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]//%i/$instance}
  done <"$file"
done

say() {
  echo "supervisor: $*" >&2
}

uptime_s() {
  cut -d' ' -f1 /proc/uptime
}

read -r -a exec_start <<<"${setting[ExecStart]:-}"
command=("${exec_start[@]}")
[ "${#command[@]}" -gt 0 ] || {
  say "no ExecStart= in $unit"
  exit 1
}
namespace=${setting[NetworkNamespacePath]:-}
restart=${setting[Restart]:-no}
delay=${setting[RestartSec]:-0.1}
delay=${delay%s}
prevent=" ${setting[RestartPreventExitStatus]:-} "
type=${setting[Type]:-simple}
watchdog_s=${setting[WatchdogSec]:-0}
watchdog_s=${watchdog_s%s}
user=${setting[User]:-}
group=${setting[Group]:-}

# caps SETTING: setpriv's form of a capability list (CAP_NET_ADMIN -> +net_admin).
caps() {
  local list=-all cap
  for cap in ${setting[$1]:-}; do
    cap=${cap#CAP_}
    list+=",+${cap,,}"
  done
  echo "$list"
}

mkdir -p "$state"
: >"$state/runs"
environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  "INVOCATION_ID=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  "JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2)")
if [ -n "$user" ]; then
  account=$(getent passwd "$user") || {
    say "no user $user (User=)"
    exit 1
  }
  IFS=: read -r _ _ _ _ _ home shell <<<"$account"
  environment+=("HOME=$home" "USER=$user" "LOGNAME=$user" "SHELL=$shell")
  command=(setpriv "--reuid=$user" "--regid=${group:-$user}" --init-groups
    "--inh-caps=$(caps AmbientCapabilities)" "--ambient-caps=$(caps AmbientCapabilities)"
    "--bounding-set=$(caps CapabilityBoundingSet)"
    $([ "${setting[NoNewPrivileges]:-}" = yes ] && echo --no-new-privs) -- "${command[@]}")
fi
if [ -n "${setting[RuntimeDirectory]:-}" ]; then
  runtime=/run/${setting[RuntimeDirectory]}
  install -d -m 0755 ${user:+-o "$user"} ${group:+-g "$group"} "$runtime"
  environment+=("RUNTIME_DIRECTORY=$runtime")
fi
listener=
if [ "$type" = notify ]; then
  socket_dir=$(mktemp -d /run/unit-supervisor.XXXXXX)
  chmod 0755 "$socket_dir"
  : >"$state/notify.log"
  DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 "$E2E_DENO" run --allow-all \
    --unstable-net --no-config "$E2E_REPO/tests/e2e/lib/notify_listener.ts" \
    "$socket_dir/notify.sock" "$state/notify.log" &
  listener=$!
  until [ -S "$socket_dir/notify.sock" ]; do sleep 0.05; done
  environment+=("NOTIFY_SOCKET=$socket_dir/notify.sock")
fi
if [ "$watchdog_s" != 0 ]; then
  environment+=("WATCHDOG_USEC=$((watchdog_s * 1000000))")
fi
if [ -n "$namespace" ]; then
  command=(nsenter "--net=$namespace" -- "${command[@]}")
fi

# last_ping_ms FROM_LINE: the time of the last WATCHDOG=1 in notify.log after line FROM_LINE.
last_ping_ms() {
  # (awk would print a 13-digit number as 1.79666e+12: kept as text.)
  tail -n +"$(($1 + 1))" "$state/notify.log" |
    awk '$2 == "WATCHDOG=1" { t = $1 } END { print (t == "" ? "0" : t) }'
}
stopping=0 interrupted=0 child=
trap 'stopping=1; interrupted=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
trap 'interrupted=1; [ -n "$child" ] && kill -HUP "$child" 2>/dev/null' HUP
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null' EXIT

while :; do
  notified=0
  [ "$type" = notify ] && notified=$(wc -l <"$state/notify.log")
  (
    umask "${setting[UMask]:-0022}"
    # The watchdog's pid is the service's: each program below execs the next.
    watchdog_pid=()
    [ "$watchdog_s" != 0 ] && watchdog_pid=("WATCHDOG_PID=$BASHPID")
    exec "${command[@]:0:${#command[@]}-${#exec_start[@]}}" env -i "${environment[@]}" \
      "${watchdog_pid[@]}" "${exec_start[@]}"
  ) &
  child=$!
  started_ms=$(($(date +%s%N) / 1000000))
  echo "$child" >"$state/pid"
  printf '%s %s' "$(uptime_s)" "$child" >>"$state/runs"
  say "started ${command[*]} (pid $child)"
  # While it runs: READY=1 on record, the watchdog's deadline kept.
  while kill -0 "$child" 2>/dev/null; do
    if [ "$type" = notify ] && [ "$(cat "$state/ready" 2>/dev/null)" != "$child" ] &&
      tail -n +"$((notified + 1))" "$state/notify.log" | grep -q ' READY=1$'; then
      echo "$child" >"$state/ready"
      say "pid $child is ready (READY=1)"
    fi
    if [ "$watchdog_s" != 0 ]; then
      last=$(last_ping_ms "$notified")
      [ "$last" -gt "$started_ms" ] || last=$started_ms
      if [ $(($(date +%s%N) / 1000000 - last)) -gt $((watchdog_s * 1000)) ]; then
        say "watchdog timeout: no WATCHDOG=1 for ${watchdog_s}s; SIGABRT to pid $child"
        kill -ABRT "$child" 2>/dev/null
      fi
    fi
    sleep 0.5 &
    wait "$!"
  done
  # A trapped signal interrupts `wait` (status 128 + signal): wait again for
  # the service's own status. 127 then means it had ended before the signal.
  while :; do
    interrupted=0
    wait "$child"
    code=$?
    [ "$interrupted" = 1 ] && [ "$code" = 127 ] && break
    status=$code
    [ "$interrupted" = 1 ] || break
  done
  printf ' %s %s\n' "$status" "$(uptime_s)" >>"$state/runs"
  say "pid $child ended with status $status"
  if [ "$stopping" = 1 ]; then
    exit "$status"
  fi
  case "$restart:$status" in
    on-failure:0 | on-failure:129 | on-failure:130 | on-failure:141 | on-failure:143 | no:*)
      say "not restarted (Restart=$restart)"
      exit "$status"
      ;;
  esac
  if [[ $prevent == *" $status "* ]]; then
    say "not restarted: status $status is in RestartPreventExitStatus="
    exit "$status"
  fi
  say "restarting in ${delay}s (Restart=$restart)"
  sleep "$delay" &
  wait "$!"
  if [ "$stopping" = 1 ]; then
    exit "$status"
  fi
done
