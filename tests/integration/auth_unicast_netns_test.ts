/**
 * Sealed and unicast peer channels (the daemon's own, src/daemon/peer_sockets.ts)
 * between real network namespaces on a bridge:
 *
 * - unicast + auth, IPv4, three nodes: each opens exactly the others' sync
 *   and control datagrams; a listed node with the wrong key and an unlisted
 *   stranger in clear get nothing in, and are counted and logged by name;
 * - multicast + auth, IPv6: the peers' datagrams open, a stranger's clear
 *   ones on the group are dropped as not authentic;
 * - unicast in clear, IPv6, peers on other ports (the control port follows
 *   each peer's port by the same offset).
 *
 * Unicast sockets never join the group, so what arrives came by unicast.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { newKeyFileText } from "../../src/auth/key_file.ts";
import { Lan, namespaceSupportMissing, run, sysctl } from "./netns.ts";

const skipReason = namespaceSupportMissing();
if (skipReason !== null) console.error(`auth/unicast namespace tests skipped: ${skipReason}`);

const PEER = fromFileUrl(new URL("./fixtures/sealed_peer.ts", import.meta.url));
const SEND_COUNT = 3;
const START_DELAY_MS = 2500;
const LISTEN_MS = 2000;

interface PeerResult {
  tag: string;
  received: { port: number; text: string; from: string }[];
  sendErrors: string[];
  dropped: { authDropped: number; replayDropped: number; unknownSenderDropped: number };
  log: string[];
}

interface Node {
  host: number;
  netsocket: Record<string, unknown>;
}

async function runNodes(lan: Lan, dir: string, nodes: Node[]): Promise<Map<number, PeerResult>> {
  const children = [];
  for (const node of nodes) {
    const namespace = `${lan.prefix}${node.host}`;
    const file = `${dir}/net${node.host}.json`;
    await Deno.writeTextFile(file, JSON.stringify(node.netsocket));
    // A test peer on the daemon's channel code, not joold: it needs no narrower set.
    const args = ["netns", "exec", namespace, Deno.execPath(), "run", "--allow-all", PEER, file];
    args.push(`n${node.host}`, String(SEND_COUNT), String(START_DELAY_MS), String(LISTEN_MS));
    children.push(
      [
        node.host,
        new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).spawn(),
      ] as const,
    );
  }
  const results = new Map<number, PeerResult>();
  for (const [host, child] of children) {
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, `node ${host} failed: ${stderr}`);
    results.set(host, JSON.parse(new TextDecoder().decode(output.stdout)));
  }
  return results;
}

async function keyFile(dir: string, name: string, fill: number): Promise<string> {
  const file = `${dir}/${name}`;
  await Deno.writeTextFile(file, newKeyFileText(new Uint8Array(32).fill(fill)), { mode: 0o600 });
  await Deno.chmod(file, 0o600);
  return file;
}

/** What `from` nodes sent, sync and control, as the receiver should see it. */
function sentBy(from: number[]): string[] {
  return from.flatMap((host) =>
    Array.from({ length: SEND_COUNT }, (_, i) => [`n${host} sync #${i}`, `n${host} control #${i}`])
      .flat()
  ).sort();
}

function texts(result: PeerResult): string[] {
  return result.received.map((datagram) => datagram.text).sort();
}

async function withLan(
  prefix: string,
  hosts: number[],
  body: (lan: Lan, dir: string) => Promise<void>,
) {
  const lan = new Lan(prefix);
  const dir = await Deno.makeTempDir({ prefix: "joold-auth-" });
  try {
    await lan.create();
    for (const host of hosts) await lan.addHost(host);
    await body(lan, dir);
  } finally {
    await lan.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "unicast + auth, IPv4: three nodes sync; a wrong key and a stranger are counted and logged",
  ignore: skipReason !== null,
  async fn() {
    await withLan("jau", [1, 2, 3, 4, 5], async (lan, dir) => {
      const good = await keyFile(dir, "good.key", 0x11);
      const wrong = await keyFile(dir, "wrong.key", 0x22);
      const base = { "multicast address": "233.252.0.64", "multicast port": 6464 };
      const others = (self: number, hosts: number[]) =>
        hosts.filter((host) => host !== self).map((host) => `198.51.100.${host}`);
      const nodes: Node[] = [1, 2, 3].map((host) => ({
        host,
        netsocket: { ...base, "auth key file": good, "unicast peers": others(host, [1, 2, 3, 4]) },
      }));
      nodes.push({
        host: 4,
        netsocket: { ...base, "auth key file": wrong, "unicast peers": others(4, [1, 2, 3]) },
      });
      nodes.push({ host: 5, netsocket: { ...base, "unicast peers": others(5, [1, 2, 3]) } });
      const results = await runNodes(lan, dir, nodes);
      for (const host of [1, 2, 3]) {
        const result = results.get(host)!;
        assert.deepEqual(result.sendErrors, []);
        assert.deepEqual(
          texts(result),
          sentBy(others(host, [1, 2, 3]).map((a) => Number(a.split(".")[3]))),
          `node ${host}`,
        );
        const { authDropped, ...rest } = result.dropped;
        // Node 4's sync and control datagrams, and its HELLO at start if this node was up by then.
        assert.ok([2 * SEND_COUNT, 2 * SEND_COUNT + 1].includes(authDropped), `node ${host}`);
        assert.deepEqual(rest, {
          replayDropped: 0,
          unknownSenderDropped: 2 * SEND_COUNT, // node 5's
        }, `node ${host}`);
        const log = result.log.join("\n");
        assert.match(
          log,
          /Dropped a datagram from 198\.51\.100\.4:646[45]: (sync|control) datagram not authentic: bad authentication tag \(key id 1\)/,
        );
        assert.match(
          log,
          /Dropped a datagram from 198\.51\.100\.5:646[45]: (sync|control) datagram from an unknown sender/,
        );
      }
      const wrongNode = results.get(4)!;
      assert.deepEqual(wrongNode.received, []);
      // The good nodes' datagrams, and their HELLOs (one at start, more in their handshakes).
      assert.ok(wrongNode.dropped.authDropped >= 2 * SEND_COUNT * 3);
    });
  },
});

Deno.test({
  name: "multicast + auth, IPv6: the peers' datagrams open; a stranger's clear ones are dropped",
  ignore: skipReason !== null,
  async fn() {
    await withLan("jam", [1, 2, 3], async (lan, dir) => {
      const good = await keyFile(dir, "good.key", 0x33);
      const base = {
        "multicast address": "ff08::db8:64:64",
        "multicast port": 6464,
        "in interface": "eth0",
      };
      const results = await runNodes(lan, dir, [
        { host: 1, netsocket: { ...base, "auth key file": good } },
        { host: 2, netsocket: { ...base, "auth key file": good } },
        { host: 3, netsocket: base },
      ]);
      assert.deepEqual(texts(results.get(1)!), sentBy([2]));
      assert.deepEqual(texts(results.get(2)!), sentBy([1]));
      for (const host of [1, 2]) {
        assert.equal(results.get(host)!.dropped.authDropped, 2 * SEND_COUNT, `node ${host}`);
        assert.match(
          results.get(host)!.log.join("\n"),
          /from \[2001:db8:ff08::3\]:646[45]: .*not sealed/,
        );
      }
    });
  },
});

Deno.test({
  name: "unicast in clear, IPv6: peers on their own ports; control follows by the same offset",
  ignore: skipReason !== null,
  async fn() {
    await withLan("jac", [1, 2], async (lan, dir) => {
      const results = await runNodes(lan, dir, [
        {
          host: 1,
          netsocket: {
            "multicast address": "ff08::db8:64:64",
            "multicast port": 6464,
            "unicast peers": ["[2001:db8:ff08::2]:7000"],
          },
        },
        {
          host: 2,
          netsocket: {
            "multicast address": "ff08::db8:64:64",
            "multicast port": 7000,
            "unicast peers": ["[2001:db8:ff08::1]:6464"],
          },
        },
      ]);
      assert.deepEqual(texts(results.get(1)!), sentBy([2]));
      assert.deepEqual(texts(results.get(2)!), sentBy([1]));
      assert.deepEqual(
        [...new Set(results.get(2)!.received.map((datagram) => datagram.port))].sort(),
        [7000, 7001],
      );
    });
  },
});

Deno.test({
  name:
    "unicast in clear, IPv4: a peer's address spoofed from another interface (rp_filter 0) is dropped",
  ignore: skipReason !== null,
  async fn() {
    await withLan("jas", [1, 2], async (lan, dir) => {
      // The attacker sits on node 1's second interface and sends as node 2.
      const node = `${lan.prefix}1`;
      const attacker = `${lan.prefix}x`;
      await run("ip", "netns", "add", attacker);
      try {
        await run("ip", "-n", node, "link", "add", "wan0", "type", "veth", "peer", "name", "wanx");
        await run("ip", "-n", node, "link", "set", "wanx", "netns", attacker);
        await run("ip", "-n", node, "addr", "add", "203.0.113.1/24", "dev", "wan0");
        await run("ip", "-n", attacker, "addr", "add", "203.0.113.2/24", "dev", "wanx");
        await run("ip", "-n", attacker, "addr", "add", "198.51.100.2/32", "dev", "wanx");
        await run("ip", "-n", node, "link", "set", "wan0", "up");
        await run("ip", "-n", attacker, "link", "set", "wanx", "up");
        await sysctl(
          node,
          "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf.default.rp_filter=0",
          "net.ipv4.conf.wan0.rp_filter=0",
        );
        const base = { "multicast address": "233.252.0.64", "multicast port": 6464 };
        const spoof = [
          "import socket",
          "for port, channel in ((6464, 'sync'), (6465, 'control')):",
          "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
          "    s.bind(('198.51.100.2', port))",
          `    for i in range(${SEND_COUNT}):`,
          "        s.sendto(f'n2 {channel} spoofed #{i}'.encode(), ('203.0.113.1', port))",
        ].join("\n");
        const [results] = await Promise.all([
          runNodes(lan, dir, [
            { host: 1, netsocket: { ...base, "unicast peers": ["198.51.100.2"] } },
            { host: 2, netsocket: { ...base, "unicast peers": ["198.51.100.1"] } },
          ]),
          (async () => {
            await new Promise((resolve) => setTimeout(resolve, START_DELAY_MS / 2));
            await run("ip", "netns", "exec", attacker, "python3", "-c", spoof);
          })(),
        ]);
        const result = results.get(1)!;
        assert.deepEqual(texts(result), sentBy([2]), "node 2's own datagrams, none spoofed");
        assert.equal(result.dropped.unknownSenderDropped, 2 * SEND_COUNT);
        assert.match(
          result.log.join("\n"),
          /Dropped a datagram from 198\.51\.100\.2:646[45]: (sync|control) datagram from an unknown sender: arrived on interface \d+, but the peer is reached over interface \d+/,
        );
      } finally {
        await run("ip", "netns", "del", attacker).catch(() => {});
      }
    });
  },
});
