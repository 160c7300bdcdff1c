/**
 * The project's multicast socket between real network namespaces on a
 * bridge, over IPv4 and IPv6 multicast, in both directions; a socket on
 * another group, in a namespace where the first group is joined too, hears
 * nothing (binding to the group address already isolates it; IP_MULTICAST_ALL
 * off is a second guard, for sockets bound to the wildcard); and the stats
 * server answers over IPv4 and IPv6 with counters of that traffic.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Lan, namespaceSupportMissing } from "./netns.ts";

const skipReason = namespaceSupportMissing();
if (skipReason !== null) console.error(`multicast namespace tests skipped: ${skipReason}`);

const PEER = fromFileUrl(new URL("./fixtures/multicast_peer.ts", import.meta.url));
const QUERY = fromFileUrl(new URL("./fixtures/stats_query.ts", import.meta.url));
const SEND_COUNT = 5;
const START_DELAY_MS = 3000;
const LISTEN_MS = 3000;
const STATS_PORT = 45678;

interface PeerResult {
  tag: string;
  received: { text: string; from: string }[];
  sendErrors: string[];
}

function startPeer(namespace: string, file: string, tag: string, sendCount: number, stats = false) {
  // A test peer on the multicast socket code, not joold: it needs no narrower set.
  const args = ["netns", "exec", namespace, Deno.execPath(), "run", "--allow-all", PEER, file, tag];
  args.push(String(sendCount), String(START_DELAY_MS), String(LISTEN_MS));
  if (stats) args.push(String(STATS_PORT));
  return new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<PeerResult> {
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `peer failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function queryStats(namespace: string, address: string): Promise<string> {
  const output = await new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      namespace,
      Deno.execPath(),
      "run",
      // A stats query tool, not joold.
      "--allow-all",
      QUERY,
      address,
      String(STATS_PORT),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

function texts(result: PeerResult): string[] {
  return result.received.map((datagram) => datagram.text).sort();
}

function expected(tag: string): string[] {
  return Array.from({ length: SEND_COUNT }, (_, i) => `${tag} #${i}`);
}

async function exchange(family: "ipv4" | "ipv6", prefix: string): Promise<void> {
  const lan = new Lan(prefix);
  const dir = await Deno.makeTempDir({ prefix: "joold-mcast-" });
  try {
    await lan.create();
    const a = await lan.addHost(1);
    const b = await lan.addHost(2);
    const c = await lan.addHost(3);
    const group1 = family === "ipv4" ? "233.252.0.64" : "ff08::db8:64:64";
    const group2 = family === "ipv4" ? "233.252.0.65" : "ff08::db8:64:65";
    const file = async (name: string, group: string, index: number) => {
      const iface = family === "ipv4" ? `198.51.100.${index}` : "eth0";
      const path = `${dir}/${name}.json`;
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          "multicast address": group,
          "multicast port": "6464",
          "in interface": iface,
          "out interface": iface,
          ttl: 3,
        }),
      );
      return path;
    };
    const peers = [
      startPeer(a, await file("a", group1, 1), "A", SEND_COUNT, true),
      startPeer(b, await file("b", group1, 2), "B", SEND_COUNT),
      startPeer(c, await file("c1", group1, 3), "C1", SEND_COUNT),
      startPeer(c, await file("c2", group2, 3), "C2", 0),
    ];
    // Ask A's stats once every peer has sent, while A still runs.
    await new Promise((resolve) => setTimeout(resolve, START_DELAY_MS + 1500));
    const stats4 = await queryStats(a, "127.0.0.1");
    const stats6 = await queryStats(a, "::1");
    const [resultA, resultB, resultC1, resultC2] = await Promise.all(peers.map(finish));

    for (const result of [resultA, resultB, resultC1, resultC2]) {
      assert.deepEqual(result.sendErrors, [], `${result.tag} could not send`);
    }
    assert.deepEqual(texts(resultA), [...expected("B"), ...expected("C1")].sort());
    assert.deepEqual(texts(resultB), [...expected("A"), ...expected("C1")].sort());
    assert.deepEqual(texts(resultC1), [...expected("A"), ...expected("B")].sort());
    assert.deepEqual(resultC2.received, [], "a socket on another group received traffic");
    const fromB = resultA.received.find((datagram) => datagram.text.startsWith("B"));
    assert.equal(fromB?.from, family === "ipv4" ? "198.51.100.2:6464" : "[2001:db8:ff08::2]:6464");

    const sentBytes = expected("A").reduce((sum, text) => sum + text.length, 0);
    const receivedBytes = [...expected("B"), ...expected("C1")].reduce((s, t) => s + t.length, 0);
    const answer = "KERNEL_SENT_PKTS,0\nKERNEL_SENT_BYTES,0\n" +
      `NET_RCVD_PKTS,${2 * SEND_COUNT}\nNET_RCVD_BYTES,${receivedBytes}\n` +
      `NET_SENT_PKTS,${SEND_COUNT}\nNET_SENT_BYTES,${sentBytes}\n`;
    assert.equal(stats4, answer, "stats over IPv4");
    assert.equal(stats6, answer, "stats over IPv6");
  } finally {
    await lan.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "IPv4 multicast between namespaces, both ways; other group hears nothing; stats",
  ignore: skipReason !== null,
  fn: () => exchange("ipv4", `jm4${Deno.pid % 10000}`),
});

Deno.test({
  name: "IPv6 multicast between namespaces, both ways; other group hears nothing; stats",
  ignore: skipReason !== null,
  fn: () => exchange("ipv6", `jm6${Deno.pid % 10000}`),
});
