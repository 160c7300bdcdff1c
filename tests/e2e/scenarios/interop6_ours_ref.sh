#!/usr/bin/env bash
# interop6-ours-ref: this project's joold on j1, Jool's C joold on j2, over
# IPv6 multicast; sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 ours reference
