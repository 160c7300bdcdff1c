#!/usr/bin/env bash
# ref-ipv6 (harness check): Jool's C joold on both nodes over IPv6 multicast;
# TCP, UDP and ICMP sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 6 reference reference
