#!/usr/bin/env bash
# control-no-daemon (negative control): as ours-ipv6, but j2 runs no daemon.
# Nothing can reach j2, so the test's comparison must report j1's sessions as
# missing there: proof that a broken sync cannot pass silently.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
E2E_SYNC_TIMEOUT=${E2E_SYNC_TIMEOUT:-4}
sync_scenario 6 ours none
