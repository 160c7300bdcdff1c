#!/usr/bin/env bash
# interop6-ref-ours: Jool's C joold on j1, this project's joold on j2, over
# IPv6 multicast; sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 reference ours
