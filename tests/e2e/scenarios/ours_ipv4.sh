#!/usr/bin/env bash
# ours-ipv4: this project's joold on both nodes over IPv4 multicast; TCP, UDP
# and ICMP sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 4 ours ours
