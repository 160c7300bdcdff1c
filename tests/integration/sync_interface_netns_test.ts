/**
 * The sync interface deleted and re-created with the same name and
 * addresses, between real network namespaces on a bridge: the project's
 * multicast socket with the daemon's sync-interface watch (a real
 * rtnetlink socket) hears the group and is heard on it again within 5 s,
 * over IPv4 (interface given by address) and IPv6 (by name), and says
 * once that the interface went away and once that it is back. Without the
 * watch the socket stays deaf and mute. With no interface configured (IPv6:
 * the kernel chooses eth0 by its multicast route) the same holds.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Lan, namespaceSupportMissing } from "./netns.ts";

const skipReason = namespaceSupportMissing();
if (skipReason !== null) console.error(`sync interface namespace tests skipped: ${skipReason}`);

const PEER = fromFileUrl(new URL("./fixtures/flap_peer.ts", import.meta.url));
/** Each peer's run: 2 s before the flap, 1.5 s away, 6 s after. */
const RUN_MS = 11_000;
const BUDGET_MS = 5000;

interface FlapResult {
  tag: string;
  received: { text: string; at: number }[];
  logs: string[];
  backs: number;
  counters: { syncInterfaceLosses: number; syncInterfaceReturns: number };
}

function startPeer(namespace: string, file: string, tag: string) {
  // A test peer on the multicast socket and the watch, not joold: it needs no narrower set.
  const args = ["netns", "exec", namespace, Deno.execPath(), "run", "--allow-all", PEER, file, tag];
  args.push(String(RUN_MS));
  return new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<FlapResult> {
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `peer failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function flap(
  family: "ipv4" | "ipv6",
  prefix: string,
  configured = true,
): Promise<void> {
  const lan = new Lan(prefix);
  const dir = await Deno.makeTempDir({ prefix: "joold-flap-" });
  try {
    await lan.create();
    const a = await lan.addHost(1);
    const b = await lan.addHost(2);
    const file = async (name: string, index: number) => {
      const iface = family === "ipv4" ? `198.51.100.${index}` : "eth0";
      const path = `${dir}/${name}.json`;
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          "multicast address": family === "ipv4" ? "233.252.0.64" : "ff08::db8:64:64",
          "multicast port": "6464",
          ...(configured ? { "in interface": iface, "out interface": iface } : {}),
          ttl: 3,
        }),
      );
      return path;
    };
    const peers = [startPeer(a, await file("a", 1), "A"), startPeer(b, await file("b", 2), "B")];
    await sleep(2000);
    const deletedAt = Date.now();
    await lan.deleteLink(1);
    await sleep(1500);
    await lan.addLink(1);
    const backAt = Date.now();
    const [resultA, resultB] = await Promise.all(peers.map(finish));

    const heard = (result: FlapResult, from: string, after: number) =>
      result.received.filter((datagram) => datagram.text.startsWith(from) && datagram.at > after);
    assert.ok(heard(resultA, "B", 0).some((d) => d.at < deletedAt), "A heard B before the flap");
    const aHears = heard(resultA, "B", backAt);
    assert.ok(aHears.length > 0, "A never heard B again after its interface came back");
    assert.ok(
      aHears[0].at - backAt <= BUDGET_MS,
      `A heard B ${aHears[0].at - backAt} ms after its interface came back`,
    );
    // The control socket, rejoined with the sync socket (the daemon passes both).
    const aHearsControl = heard(resultA, "B control", backAt);
    assert.ok(aHearsControl.length > 0, "A's control socket never heard B again");
    assert.ok(aHearsControl[0].at - backAt <= BUDGET_MS);
    const bHears = heard(resultB, "A", backAt);
    assert.ok(bHears.length > 0, "B never heard A again after A's interface came back");
    assert.ok(
      bHears[0].at - backAt <= BUDGET_MS,
      `B heard A ${bHears[0].at - backAt} ms after A's interface came back`,
    );

    const group = family === "ipv4" ? "233\\.252\\.0\\.64" : "ff08::db8:64:64";
    if (!configured) {
      const back = resultA.logs.filter((line) => / is back \(/.test(line));
      assert.equal(back.length, 1, resultA.logs.join("\n"));
      assert.match(
        back[0],
        new RegExp(
          `^info: Sync interface chosen by the kernel is back \\(index \\d+\\) after .* s: rejoined group ${group}$`,
        ),
      );
      assert.equal(resultA.counters.syncInterfaceReturns, 1);
      assert.equal(resultA.backs, 1);
      assert.deepEqual(resultB.logs, [], "B's interface never moved");
      return;
    }
    const label = family === "ipv4" ? "eth0 \\(198\\.51\\.100\\.1\\)" : "eth0";
    const away = resultA.logs.filter((line) => /went away/.test(line));
    const back = resultA.logs.filter((line) => / is back \(/.test(line));
    assert.equal(away.length, 1, resultA.logs.join("\n"));
    assert.match(away[0], new RegExp(`^warning: Sync interface ${label} went away: `));
    assert.equal(back.length, 1, resultA.logs.join("\n"));
    assert.match(
      back[0],
      new RegExp(
        `^info: Sync interface ${label} is back \\(index \\d+\\) after .* s: rejoined group ${group}$`,
      ),
    );
    assert.equal(resultA.counters.syncInterfaceLosses, 1);
    assert.equal(resultA.counters.syncInterfaceReturns, 1);
    assert.equal(resultA.backs, 1);
    assert.deepEqual(resultB.logs, [], "B's interface never moved");
  } finally {
    await lan.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "IPv4 sync interface deleted and re-created: heard and hearing again within 5 s",
  ignore: skipReason !== null,
  fn: () => flap("ipv4", `jf4${Deno.pid % 10000}`),
});

Deno.test({
  name: "IPv6 sync interface deleted and re-created: heard and hearing again within 5 s",
  ignore: skipReason !== null,
  fn: () => flap("ipv6", `jf6${Deno.pid % 10000}`),
});

Deno.test({
  name: "IPv6, no in or out interface: the kernel's choice re-created, heard and hearing again",
  ignore: skipReason !== null,
  fn: () => flap("ipv6", `jfk${Deno.pid % 10000}`, false),
});
