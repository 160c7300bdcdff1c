#!/usr/bin/env bash
# ours-three: this project's joold on three nodes over IPv6 multicast; a
# session created through any node reaches the other two.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 ours ours ours
