#!/usr/bin/env bash
# ref-ipv4 (harness check): Jool's C joold on both nodes over IPv4 multicast;
# TCP, UDP and ICMP sessions created through either node reach the other.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/topology.sh"
sync_scenario 4 reference reference
