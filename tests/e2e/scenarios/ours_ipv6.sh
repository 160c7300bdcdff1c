#!/usr/bin/env bash
# ours-ipv6: this project's joold on both nodes over IPv6 multicast; TCP, UDP
# and ICMP sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 ours ours
