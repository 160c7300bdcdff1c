#!/usr/bin/env bash
# interop4-ours-ref: this project's joold on j1, Jool's C joold on j2, over
# IPv4 multicast; sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 4 ours reference
