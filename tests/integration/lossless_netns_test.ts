/**
 * Lossless delivery between real network namespaces on a bridge, on the
 * daemon's own sockets and parts over fake kernels (the host has no Jool):
 * a link that loses every 10th datagram on each port (thrown away as it
 * arrives: the host has no netem, nor tc actions or netfilter to drop
 * with), two senders' bursts reach the third node's kernel whole, over the
 * IPv6 group and over IPv4 unicast; with `"reliable delivery": false` some
 * do not (so the test can fail).
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { newKeyFileText } from "../../src/auth/key_file.ts";
import { Lan, namespaceSupportMissing } from "./netns.ts";

const skipReason = namespaceSupportMissing();
if (skipReason !== null) console.error(`lossless namespace tests skipped: ${skipReason}`);

const NODE = fromFileUrl(new URL("./fixtures/lossless_node.ts", import.meta.url));
const BATCHES = 600;
const START_DELAY_MS = 2500;
const LISTEN_MS = 6000;
const LOSS_EVERY = 10;

interface NodeResult {
  /** By sender host, the indexes of its batches taken in (repeats included). */
  taken: Record<string, number[]>;
  counters: Record<string, number>;
  log: string[];
}

async function runNodes(
  lan: Lan,
  dir: string,
  netsockets: Map<number, Record<string, unknown>>,
): Promise<Map<number, NodeResult>> {
  const children = [];
  for (const [host, netsocket] of netsockets) {
    const file = `${dir}/net${host}.json`;
    await Deno.writeTextFile(file, JSON.stringify(netsocket));
    // A test node on the daemon's parts over a fake kernel, not joold: it needs no narrower set.
    const args = ["netns", "exec", `${lan.prefix}${host}`, Deno.execPath(), "run", "--allow-all"];
    args.push(NODE, file, String(host), String(BATCHES), String(START_DELAY_MS), String(LISTEN_MS));
    args.push(String(LOSS_EVERY));
    const command = new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" });
    children.push([host, command.spawn()] as const);
  }
  const results = new Map<number, NodeResult>();
  for (const [host, child] of children) {
    const output = await child.output();
    assert.ok(output.success, `node ${host}: ${new TextDecoder().decode(output.stderr)}`);
    results.set(host, JSON.parse(new TextDecoder().decode(output.stdout)));
  }
  return results;
}

async function withLan(prefix: string, body: (lan: Lan, dir: string) => Promise<void>) {
  const lan = new Lan(prefix);
  const dir = await Deno.makeTempDir({ prefix: "joold-lossless-" });
  try {
    await lan.create();
    for (const host of [1, 2, 3]) await lan.addHost(host);
    await body(lan, dir);
  } finally {
    await lan.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Three nodes, each sending its numbered batches (its own fake kernel's):
 * what each node's kernel took in from the other two, with the machinery
 * on, then off.
 */
async function burst(
  prefix: string,
  netsocket: (host: number) => Record<string, unknown>,
): Promise<{ on: Map<number, NodeResult>; off: Map<number, NodeResult> }> {
  let on = new Map<number, NodeResult>();
  let off = new Map<number, NodeResult>();
  await withLan(prefix, async (lan, dir) => {
    const hosts = [1, 2, 3];
    on = await runNodes(lan, dir, new Map(hosts.map((host) => [host, netsocket(host)])));
    off = await runNodes(
      lan,
      dir,
      new Map(hosts.map((host) => [host, { ...netsocket(host), "reliable delivery": false }])),
    );
  });
  return { on, off };
}

/** The batches of `sender` that `result`'s kernel never took in. */
function missing(result: NodeResult, sender: number): number[] {
  const taken = new Set(result.taken[sender] ?? []);
  return Array.from({ length: BATCHES }, (_, i) => i).filter((i) => !taken.has(i));
}

function assertLossless(results: { on: Map<number, NodeResult>; off: Map<number, NodeResult> }) {
  for (const [host, result] of results.on) {
    for (const sender of [1, 2, 3].filter((other) => other !== host)) {
      assert.deepEqual(
        missing(result, sender),
        [],
        `node ${host}, batches of node ${sender}: ${JSON.stringify(result.counters)}`,
      );
    }
    const { syncGaps, syncRepaired, syncGapsUnrepaired } = result.counters;
    assert.ok(syncGaps > 0, `node ${host}: the link lost some (${syncGaps})`);
    assert.equal(syncRepaired, syncGaps, `node ${host}: every gap repaired`);
    assert.equal(syncGapsUnrepaired, 0, `node ${host}`);
  }
  for (const [host, result] of results.off) {
    assert.equal(result.counters.syncGaps, 0, `node ${host}: the machinery is off`);
    const lost = [1, 2, 3].filter((other) => other !== host)
      .reduce((sum, sender) => sum + missing(result, sender).length, 0);
    assert.ok(lost > 0, `node ${host}: without the machinery, batches are lost`);
  }
}

Deno.test({
  name: "lossless delivery over the IPv6 group: every datagram lost on the link comes again",
  ignore: skipReason !== null,
  async fn() {
    assertLossless(
      await burst("jll", () => ({
        "multicast address": "ff08::db8:64:64",
        "multicast port": 6464,
        "in interface": "eth0",
      })),
    );
  },
});

Deno.test({
  name: "lossless delivery sealed, over the IPv6 group: the same, in datagrams that fit a packet",
  ignore: skipReason !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "joold-lossless-key-" });
    try {
      const key = `${dir}/sync.key`;
      await Deno.writeTextFile(key, newKeyFileText(new Uint8Array(32).fill(0x5a)), { mode: 0o600 });
      await Deno.chmod(key, 0o600);
      assertLossless(
        await burst("jls", () => ({
          "multicast address": "ff08::db8:64:64",
          "multicast port": 6464,
          "in interface": "eth0",
          "auth key file": key,
        })),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "lossless delivery over IPv4 unicast peers, the same",
  ignore: skipReason !== null,
  async fn() {
    const peers = (self: number) =>
      [1, 2, 3].filter((host) => host !== self).map((host) => `198.51.100.${host}`);
    assertLossless(
      await burst("jlu", (host) => ({
        "multicast address": "233.252.0.64",
        "multicast port": 6464,
        "unicast peers": peers(host),
      })),
    );
  },
});
