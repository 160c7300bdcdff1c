#!/usr/bin/env bash
# unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR: runs a systemd service
# unit as systemd would, as far as joold's units need it, for the test VM,
# which has no systemd (tests/e2e/scenarios/install.sh).
#
# From UNIT_FILE and its drop-ins (UNIT_FILE.d/*.conf, later ones win) it
# takes ExecStart=, NetworkNamespacePath=, Restart= (no or on-failure),
# RestartSec= and RestartPreventExitStatus=, with %i replaced by INSTANCE
# (empty for a unit that is no template). It starts ExecStart= in that
# namespace (nsenter) and, with Restart=on-failure, starts it again
# RestartSec= after it ends with a non-zero status or is killed by a signal
# other than SIGHUP, SIGINT, SIGTERM or SIGPIPE, unless the status is listed
# in RestartPreventExitStatus=. StartLimit*= is not followed.
#
# SIGTERM or SIGINT stops the service (SIGTERM to it, as `systemctl stop`)
# and this script then exits with the service's status. The service writes
# to this script's stdout and stderr (the journal, here); this script's own
# lines on stderr start with "supervisor:". In STATE_DIR: `pid`, the running
# service's pid; `runs`, one line per run: "START_UPTIME PID", then
# " EXIT_STATUS END_UPTIME" once it ended.
set -uo pipefail

unit=${1:?usage: unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR}
instance=$2
state=${3:?usage: unit_supervisor.sh UNIT_FILE INSTANCE STATE_DIR}

declare -A setting
for file in "$unit" "$unit.d"/*.conf; do
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

read -r -a command <<<"${setting[ExecStart]:-}"
[ "${#command[@]}" -gt 0 ] || {
  say "no ExecStart= in $unit"
  exit 1
}
namespace=${setting[NetworkNamespacePath]:-}
restart=${setting[Restart]:-no}
delay=${setting[RestartSec]:-0.1}
delay=${delay%s}
prevent=" ${setting[RestartPreventExitStatus]:-} "
if [ -n "$namespace" ]; then
  command=(nsenter "--net=$namespace" -- "${command[@]}")
fi

mkdir -p "$state"
: >"$state/runs"
stopping=0 interrupted=0 child=
trap 'stopping=1; interrupted=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT

while :; do
  "${command[@]}" &
  child=$!
  echo "$child" >"$state/pid"
  printf '%s %s' "$(uptime_s)" "$child" >>"$state/runs"
  say "started ${command[*]} (pid $child)"
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
