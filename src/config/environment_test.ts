import assert from "node:assert/strict";
import { Libc } from "../../ffi/libc.ts";
import { systemEnvironment } from "./environment.ts";
import { parseNetsocketConfig } from "./netsocket.ts";

Deno.test("systemEnvironment sees this machine's loopback and /etc/services", () => {
  const libc = Libc.open();
  try {
    const env = systemEnvironment(libc);
    assert.equal(env.interfaceIndex("lo"), 1);
    assert.equal(env.interfaceIndex("no-such-if0"), 0);
    assert.equal(env.interfaceIndex("lo\0x"), 0);
    const loopback = env.interfaceAddresses().filter((entry) => entry.name === "lo");
    assert.ok(
      loopback.some((entry) => entry.family === 2 && entry.address.join(".") === "127.0.0.1"),
      JSON.stringify(loopback),
    );
    assert.equal(env.resolveService("domain"), 53);
    assert.equal(env.resolveService("no-such-service-here"), null);
    assert.equal(env.resolveService(""), null);

    const text = JSON.stringify({
      "multicast address": "233.252.0.64",
      "multicast port": "domain",
      "in interface": "127.0.0.1",
      "out interface": "127.0.0.1",
    });
    const { config } = parseNetsocketConfig(text, "net.json", env);
    assert.equal(config.port, 53);
    assert.deepEqual(config.inInterface, {
      kind: "address",
      text: "127.0.0.1",
      address: new Uint8Array([127, 0, 0, 1]),
      name: "lo",
    });
  } finally {
    libc.close();
  }
});
