#!/usr/bin/env bash
# ref-three (harness check): Jool's C joold on three nodes over IPv6
# multicast; a session created through any node reaches the other two.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 reference reference reference
