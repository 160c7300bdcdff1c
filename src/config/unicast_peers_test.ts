/** The "unicast peers" list: the accepted spellings and every error, one line each. */

import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import type { JsonMember } from "./json_file.ts";
import { parseUnicastPeers } from "./unicast_peers.ts";

function member(value: unknown): JsonMember {
  return { key: "unicast peers", value, raw: JSON.stringify(value) } as JsonMember;
}

Deno.test("peers with and without ports, IPv6 in brackets", () => {
  const v6 = parseUnicastPeers(member(["2001:db8::2", "[2001:db8::3]:7000"]), "ipv6", 6464, "n");
  assert.deepEqual(v6.map((peer) => [peer.text, peer.address.length, peer.port]), [
    ["2001:db8::2", 16, 6464],
    ["[2001:db8::3]:7000", 16, 7000],
  ]);
  const v4 = parseUnicastPeers(member(["192.0.2.2:6464", "192.0.2.3"]), "ipv4", 5000, "n");
  assert.deepEqual(v4.map((peer) => [peer.address, peer.port]), [
    [Uint8Array.of(192, 0, 2, 2), 6464],
    [Uint8Array.of(192, 0, 2, 3), 5000],
  ]);
});

Deno.test("bad peer lists: one line naming the file, the key and the peer", async (t) => {
  const prefix = 'n: "unicast peers": ';
  const cases: [string, unknown, "ipv4" | "ipv6", string][] = [
    ["not a list", "192.0.2.2", "ipv4", "must be a list of addresses, got a string"],
    ["empty", [], "ipv4", "must name at least one peer (or leave the key out)"],
    ["a number", [1], "ipv4", "each peer must be a string, got a number"],
    [
      "a name",
      ["peer.example"],
      "ipv4",
      '"peer.example" is not a numeric IPv4 or IPv6 address (names are not resolved)',
    ],
    [
      "unclosed bracket",
      ["[2001:db8::2:6464"],
      "ipv6",
      '"[2001:db8::2:6464" is not an address, address:port or [IPv6 address]:port (numeric addresses only)',
    ],
    [
      "other family",
      ["2001:db8::2"],
      "ipv4",
      '"2001:db8::2" is IPv6, but "multicast address" is IPv4; every peer must be of the same family',
    ],
    ["multicast", ["224.0.0.1"], "ipv4", '"224.0.0.1" must be one node\'s unicast address'],
    ["any", ["::"], "ipv6", '"::" must be one node\'s unicast address'],
    [
      "port 0",
      ["192.0.2.2:0"],
      "ipv4",
      '"192.0.2.2:0": the port must be a port number from 1 to 65535, got "0"',
    ],
    [
      "port text",
      ["[2001:db8::2]:sync"],
      "ipv6",
      '"[2001:db8::2]:sync": the port must be a port number from 1 to 65535, got "sync"',
    ],
    ["twice", ["192.0.2.2", "192.0.2.2:6464"], "ipv4", '"192.0.2.2:6464" is given twice'],
  ];
  for (const [name, value, family, problem] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseUnicastPeers(member(value), family, 6464, "n"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, prefix + problem);
        return true;
      });
    });
  }
});
