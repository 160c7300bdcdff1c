#!/usr/bin/env bash
# check: `joold check` (this project's bundle) against the real kernel, one
# boot for every case: a good setup (exit 0), a modsocket naming a missing
# instance, session sync off with "enable ss": false, a netsocket naming a
# missing interface (each non-zero, with the reason on its item's line), and
# session sync off with the default "enable ss" (a warning, exit 0). j2's
# ss-enabled is off; that it is still off afterwards (check/j2.ss-enabled)
# shows check changes nothing. Output in commands/CASE.{stdout,stderr,exit}.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
topo_setup 2
jool_in j2 global update ss-enabled false || e2e_die "cannot disable session sync in j2"
out=$E2E_OUT/check
mkdir -p "$out"
cfg=$E2E_OUT/config
netsocket_write j1 6 "$cfg/j1.netsocket.json"
netsocket_write j2 6 "$cfg/j2.netsocket.json"
sed 's/"sync0"/"nosuch0"/g' "$cfg/j1.netsocket.json" >"$cfg/nosuch0.netsocket.json"
modsocket_write "$cfg/default.modsocket.json"
modsocket_write "$cfg/ghost.modsocket.json" ghost
modsocket_write "$cfg/no-enable.modsocket.json" default '"enable ss": false'

check_case() {
  local name=$1 node=$2 net=$3 mod=$4
  run_ours_command "$node" "$name" check "$cfg/$net.netsocket.json" "$cfg/$mod.modsocket.json"
  e2e_log "joold check ($name, in $node): exit status $(cat "$E2E_OUT/commands/$name.exit")"
}
check_case good j1 j1 default
check_case missing-instance j1 j1 ghost
check_case ss-off j2 j2 no-enable
check_case ss-off-enable j2 j2 default
check_case bad-interface j1 nosuch0 default
jool_global j2 ss-enabled >"$out/j2.ss-enabled"
e2e_finish
