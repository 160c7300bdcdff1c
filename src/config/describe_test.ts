import assert from "node:assert/strict";
import { fakeEnvironment } from "../../tests/support/fake_environment.ts";
import { factLines, factPhrase, modsocketFacts, netsocketFacts } from "./describe.ts";
import { defaultModsocketConfig } from "./modsocket.ts";
import { parseNetsocketConfig } from "./netsocket.ts";

const env = fakeEnvironment();

function netsocket(keys: Record<string, unknown>) {
  return parseNetsocketConfig(JSON.stringify(keys), "net.json", env).config;
}

Deno.test("the start-up lines and the report phrase say the same settings", () => {
  const cases = [
    {
      keys: {
        "multicast address": "ff08::db8:64:64",
        "multicast port": 6464,
        "in interface": "eth0",
      },
      lines: [
        "  multicast address: ff08::db8:64:64 (IPv6)",
        "  multicast port:    6464",
        "  in interface:      eth0 (index 2)",
        "  out interface:     same as in interface",
        "  ttl:               1",
        "  control port:      6465",
        "  unicast peers:     none (the multicast group)",
        "  auth key file:     none (in clear)",
      ],
      phrase: "ff08::db8:64:64 port 6464, in eth0, out eth0, ttl 1, control port 6465",
    },
    {
      keys: {
        "multicast address": "233.252.0.64",
        "multicast port": 6464,
        "out interface": "192.0.2.1",
        "control port": false,
        "unicast peers": ["192.0.2.2", "192.0.2.3:7000"],
        "auth key file": "/etc/joold/keys",
      },
      lines: [
        "  multicast address: 233.252.0.64 (IPv4)",
        "  multicast port:    6464",
        "  in interface:      chosen by the kernel",
        "  out interface:     192.0.2.1 (eth0)",
        "  ttl:               1",
        "  control port:      none (resync disabled)",
        "  unicast peers:     192.0.2.2, 192.0.2.3:7000",
        "  auth key file:     /etc/joold/keys",
      ],
      phrase: "233.252.0.64 port 6464, in chosen by the kernel, out 192.0.2.1 (eth0), ttl 1, " +
        "no control port, unicast to 192.0.2.2, 192.0.2.3:7000, authenticated",
    },
  ];
  for (const { keys, lines, phrase } of cases) {
    const facts = netsocketFacts(netsocket(keys));
    assert.deepEqual(factLines(facts), lines);
    assert.equal(factPhrase(facts), phrase);
  }
  const modsocket = { ...defaultModsocketConfig().config, enableSs: false };
  assert.deepEqual(factLines(modsocketFacts(modsocket)), [
    "  instance:          default",
    "  enable ss:         no",
    "  ss max payload:    32768 bytes (Jool 4.1.10 and earlier; put back at exit)",
    "  ss capacity:       16384 sessions (Jool 4.1.11 and later; put back at exit)",
    "  ss flush asap:     turned on (Jool 4.1.12 and earlier; put back at exit)",
    "  ss flush deadline: 20 ms (Jool 4.1.13 and later; put back at exit)",
  ]);
  assert.equal(factPhrase(modsocketFacts(modsocket)), `instance 'default', "enable ss": false`);
});
