import assert from "node:assert/strict";
import { fakeEnvironment } from "../../tests/support/fake_environment.ts";
import { ConfigError } from "./errors.ts";
import {
  loadNetsocketConfig,
  type NetsocketConfig,
  parseNetsocketConfig,
  reliableDeliveryOn,
  requireControlPortWhenSealed,
} from "./netsocket.ts";

const env = fakeEnvironment();

/** A config object as JSON text, for the table rows that are about values. */
function json(object: Record<string, unknown>): string {
  return JSON.stringify(object);
}

const V4 = { "multicast address": "233.252.0.64", "multicast port": "6464" };
const V6 = { "multicast address": "ff08::db8:64:64", "multicast port": "6464" };

Deno.test("parseNetsocketConfig rejects bad files with one precise line", () => {
  const table: [string, string][] = [
    // Syntax and shape.
    [
      '{\n  "multicast address": "ff08::db8:64:64",\n  "out key": }\n',
      "net.json:3:14: syntax error: value expected",
    ],
    ["", "net.json: the file is empty; it must hold a JSON object"],
    [" \n\t", "net.json: the file is empty; it must hold a JSON object"],
    ["[]", "net.json: the top level must be a JSON object"],
    ['"ff08::1"', "net.json: the top level must be a JSON object"],
    ["null", "net.json: the top level must be a JSON object"],
    ["{'ttl': 3}", "net.json:1:2: syntax error: invalid symbol"],
    ['{"ttl": 3} {}', "net.json:1:12: syntax error: end of file expected"],
    ['{"ttl": 3 /* never closed', "net.json:1:11: syntax error: unexpected end of comment"],
    ['{\r\n"ttl" 3}', "net.json:2:7: syntax error: colon expected"],
    ['{"ttl": 3', "net.json:1:10: syntax error: close brace expected"],
    ['{"ttl": 3,,}', "net.json:1:11: syntax error: property name expected"],
    ['{"in interface": "eth0\\x"}', "net.json:1:18: syntax error: invalid escape character"],
    // "multicast address".
    ["{}", 'net.json: "multicast address": is required'],
    [json({ "multicast port": 6464 }), 'net.json: "multicast address": is required'],
    [
      json({ "multicast address": 5 }),
      'net.json: "multicast address": must be a string, got a number',
    ],
    [
      json({ "multicast address": ["ff08::1"] }),
      'net.json: "multicast address": must be a string, got an array',
    ],
    [
      json({ "multicast address": "jool.mx" }),
      'net.json: "multicast address": must be a numeric IPv4 or IPv6 address, got "jool.mx"',
    ],
    [
      json({ "multicast address": "233.252.0.064" }),
      'net.json: "multicast address": must be a numeric IPv4 or IPv6 address, got "233.252.0.064"',
    ],
    [
      json({ "multicast address": "ff02::1%eth0" }),
      'net.json: "multicast address": must not have a zone index, got "ff02::1%eth0"; ' +
      'name the interface in "in interface" and "out interface" instead',
    ],
    [
      json({ "multicast address": "ff08::/16" }),
      'net.json: "multicast address": must be one address, not a prefix, got "ff08::/16"',
    ],
    [
      json({ "multicast address": "192.0.2.1" }),
      'net.json: "multicast address": must be a multicast address (224.0.0.0/4 or ff00::/8), got "192.0.2.1"',
    ],
    [
      json({ "multicast address": "2001:db8::1" }),
      'net.json: "multicast address": must be a multicast address (224.0.0.0/4 or ff00::/8), got "2001:db8::1"',
    ],
    [
      json({ "multicast address": "::ffff:233.252.0.64" }),
      'net.json: "multicast address": must be a multicast address, got the IPv4-mapped ' +
      '"::ffff:233.252.0.64"; write the IPv4 group as "233.252.0.64"',
    ],
    // "multicast port".
    [
      json({ "multicast address": "ff08::1" }),
      'net.json: "multicast port": is required (joold 4.1 used 6400 when it was missing)',
    ],
    [
      json({ ...V6, "multicast port": "0" }),
      'net.json: "multicast port": must be a port number from 1 to 65535, got "0"',
    ],
    [
      json({ ...V6, "multicast port": "65536" }),
      'net.json: "multicast port": must be a port number from 1 to 65535, got "65536"',
    ],
    [
      json({ ...V6, "multicast port": 70000 }),
      'net.json: "multicast port": must be a port number from 1 to 65535, got 70000',
    ],
    [
      '{"multicast address": "ff08::1", "multicast port": 6.4e99}',
      'net.json: "multicast port": must be a port number from 1 to 65535, got 6.4e99',
    ],
    [
      json({ ...V6, "multicast port": 64.5 }),
      'net.json: "multicast port": must be a port number from 1 to 65535, got 64.5',
    ],
    [
      json({ ...V6, "multicast port": true }),
      'net.json: "multicast port": must be a string or an integer, got a boolean',
    ],
    [
      json({ ...V6, "multicast port": "dns" }),
      'net.json: "multicast port": must be a port number from 1 to 65535 or a UDP service name ' +
      'from /etc/services, got "dns"',
    ],
    [
      json({ ...V6, "multicast port": " 6464" }),
      'net.json: "multicast port": must be a port number from 1 to 65535 or a service name, got " 6464"',
    ],
    [
      json({ ...V6, "multicast port": "+53" }),
      'net.json: "multicast port": must be a port number from 1 to 65535 or a service name, got "+53"',
    ],
    [
      json({ ...V6, "multicast port": "" }),
      'net.json: "multicast port": must be a port number from 1 to 65535 or a service name, got ""',
    ],
    // Interfaces of an IPv4 group.
    [
      json({ ...V4, "in interface": "eth0" }),
      'net.json: "in interface": the multicast address is IPv4, so this must be an IPv4 address ' +
      "of the interface, not its name; eth0 has 192.0.2.1",
    ],
    [
      json({ ...V4, "out interface": "eth1" }),
      'net.json: "out interface": the multicast address is IPv4, so this must be an IPv4 address ' +
      "of the interface, not its name; eth1 has no IPv4 address",
    ],
    [
      json({ ...V4, "in interface": "2001:db8:ff08::4" }),
      'net.json: "in interface": the multicast address is IPv4, so this must be an IPv4 address ' +
      'of the interface, got the IPv6 address "2001:db8:ff08::4"',
    ],
    [
      json({ ...V4, "in interface": "eht0" }),
      'net.json: "in interface": the multicast address is IPv4, so this must be an IPv4 address ' +
      'of the interface, got "eht0"',
    ],
    [
      json({ ...V4, "out interface": "192.0.2.9" }),
      'net.json: "out interface": no interface in this network namespace has the address 192.0.2.9',
    ],
    [
      json({ ...V4, "in interface": 2 }),
      'net.json: "in interface": must be a string, got a number',
    ],
    [
      json({ ...V4, "in interface": "" }),
      'net.json: "in interface": must not be empty; leave the key out to let the kernel choose',
    ],
    // Interfaces of an IPv6 group.
    [
      json({ ...V6, "in interface": "192.0.2.1" }),
      'net.json: "in interface": the multicast address is IPv6, so this must be the name of an ' +
      'interface, not an address; 192.0.2.1 belongs to "eth0"',
    ],
    [
      json({ ...V6, "in interface": "2001:db8::99" }),
      'net.json: "in interface": the multicast address is IPv6, so this must be the name of an ' +
      "interface, not an address",
    ],
    [
      json({ ...V6, "out interface": "eht0" }),
      'net.json: "out interface": no interface in this network namespace is called "eht0"',
    ],
    [
      json({ ...V6, "out interface": "eth0\u0000" }),
      'net.json: "out interface": must be an interface name, got "eth0\\u0000"',
    ],
    [
      json({ ...V6, "out interface": "a-very-long-interface-name" }),
      'net.json: "out interface": must be an interface name, got "a-very-long-interface-name"',
    ],
    [
      json({ ...V6, "out interface": null }),
      'net.json: "out interface": must be a string, got null',
    ],
    // "ttl".
    [json({ ...V6, ttl: 300 }), 'net.json: "ttl": must be an integer from 0 to 255, got 300'],
    [json({ ...V6, ttl: 256 }), 'net.json: "ttl": must be an integer from 0 to 255, got 256'],
    [json({ ...V6, ttl: -1 }), 'net.json: "ttl": must be an integer from 0 to 255, got -1'],
    [json({ ...V6, ttl: 1.5 }), 'net.json: "ttl": must be an integer from 0 to 255, got 1.5'],
    [json({ ...V6, ttl: "abc" }), 'net.json: "ttl": must be an integer, got a string'],
    [
      json({ ...V6, ttl: "3" }),
      'net.json: "ttl": must be an integer, got a string; write 3 without quotes',
    ],
    [json({ ...V6, ttl: null }), 'net.json: "ttl": must be an integer, got null'],
    [json({ ...V6, ttl: {} }), 'net.json: "ttl": must be an integer, got an object'],
    // "control port" (ours: the resync protocol).
    [
      json({ ...V6, "control port": "6464" }),
      'net.json: "control port": must differ from "multicast port" (6464)',
    ],
    [
      json({ ...V6, "control port": true }),
      'net.json: "control port": must be a port, or false to disable resync',
    ],
    [
      json({ ...V6, "control port": 0 }),
      'net.json: "control port": must be a port number from 1 to 65535, got 0',
    ],
    // Duplicates, which the C daemon resolved silently in favour of the first.
    [
      '{"multicast address": "ff08::1", "multicast port": 1, "ttl": 2, "ttl": 3}',
      'net.json: "ttl": is given more than once',
    ],
    [
      '{"multicast address": "ff08::1", "multicast port": 1, "TTL": 2, "ttl": 3}',
      'net.json: "ttl": is given more than once (also as "TTL")',
    ],
  ];
  assert.ok(table.length >= 20);
  assertErrors(table, (text) => parseNetsocketConfig(text, "net.json", env));
});

/**
 * Runs every row and reports all mismatches at once, each row's message
 * being exactly one line.
 */
function assertErrors(table: [string, string][], parse: (text: string) => unknown): void {
  const wrong: string[] = [];
  for (const [text, expected] of table) {
    let actual: string;
    try {
      parse(text);
      actual = "(no error)";
    } catch (error) {
      actual = error instanceof ConfigError ? error.message : `(not a ConfigError) ${error}`;
    }
    if (actual !== expected) wrong.push(`${text}\n  expected: ${expected}\n  actual:   ${actual}`);
  }
  assert.deepEqual(wrong, []);
}

Deno.test("ConfigError carries the file, key and problem apart", () => {
  let caught: unknown;
  try {
    parseNetsocketConfig(json({ ...V6, TTL: 300 }), "conf/net.json", env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.name, "ConfigError");
  assert.equal(caught.file, "conf/net.json");
  assert.equal(caught.key, "TTL");
  assert.equal(caught.problem, "must be an integer from 0 to 255, got 300");
  assert.equal(caught.line, null);
  assert.equal(caught.column, null);
  assert.equal(caught.message, 'conf/net.json: "TTL": must be an integer from 0 to 255, got 300');
});

Deno.test("parseNetsocketConfig reads the man page's IPv6 example", () => {
  const text = `{
     "multicast address": "ff08::db8:64:64",
     "multicast port": "6464",
     "in interface": "eth0",
     "out interface": "eth0",
     "ttl": 3
  }`;
  const expected: NetsocketConfig = {
    file: "ipv6-netsocket.json",
    family: "ipv6",
    address: "ff08::db8:64:64",
    group: new Uint8Array([0xff, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 0x64, 0, 0x64]),
    port: 6464,
    inInterface: { kind: "name", text: "eth0", index: 2 },
    outInterface: { kind: "name", text: "eth0", index: 2 },
    ttl: 3,
    controlPort: 6465,
    authKeyFile: null,
    unicastPeers: null,
  };
  assert.deepEqual(parseNetsocketConfig(text, "ipv6-netsocket.json", env), {
    config: expected,
    warnings: [],
  });
});

Deno.test("parseNetsocketConfig reads the man page's IPv4 example", () => {
  const text = `{
     "multicast address": "233.252.0.64",
     "multicast port": "6464",
     "in interface": "192.0.2.1",
     "out interface": "192.0.2.1",
     "ttl": 3
  }`;
  const eth0 = {
    kind: "address",
    text: "192.0.2.1",
    address: new Uint8Array([192, 0, 2, 1]),
    name: "eth0",
  } as const;
  const expected: NetsocketConfig = {
    file: "ipv4-netsocket.json",
    family: "ipv4",
    address: "233.252.0.64",
    group: new Uint8Array([233, 252, 0, 64]),
    port: 6464,
    inInterface: eth0,
    outInterface: eth0,
    ttl: 3,
    controlPort: 6465,
    authKeyFile: null,
    unicastPeers: null,
  };
  assert.deepEqual(parseNetsocketConfig(text, "ipv4-netsocket.json", env), {
    config: expected,
    warnings: [],
  });
});

Deno.test("parseNetsocketConfig fills defaults and canonicalizes the group", () => {
  const { config, warnings } = parseNetsocketConfig(
    json({ "multicast address": "FF08:0:0::DB8:064:64", "multicast port": 6464 }),
    "net.json",
    env,
  );
  assert.deepEqual(warnings, []);
  assert.equal(config.address, "ff08::db8:64:64");
  assert.equal(config.family, "ipv6");
  assert.equal(config.port, 6464);
  assert.equal(config.inInterface, null);
  assert.equal(config.outInterface, null);
  assert.equal(config.ttl, 1);
  assert.equal(config.controlPort, 6465);
});

Deno.test("parseNetsocketConfig: the control port can be moved or disabled", () => {
  const parse = (extra: Record<string, unknown>) =>
    parseNetsocketConfig(json({ ...V6, ...extra }), "net.json", env).config.controlPort;
  assert.equal(parse({ "control port": 7000 }), 7000);
  assert.equal(parse({ "control port": "7001" }), 7001);
  assert.equal(parse({ "control port": false }), null);
  assert.equal(parse({ "multicast port": 65535 }), null);
});

Deno.test("parseNetsocketConfig takes ports as numbers, numeric strings and service names", () => {
  const table: [unknown, number][] = [
    ["6464", 6464],
    ["06464", 6464],
    ["1", 1],
    ["65535", 65535],
    [65535, 65535],
    [6464, 6464],
    ["domain", 53],
  ];
  for (const [given, port] of table) {
    const text = json({ ...V4, "multicast port": given });
    assert.equal(parseNetsocketConfig(text, "net.json", env).config.port, port, String(given));
  }
});

Deno.test("parseNetsocketConfig takes TTLs from 0 to 255", () => {
  for (const ttl of [0, 1, 64, 255]) {
    assert.equal(parseNetsocketConfig(json({ ...V6, ttl }), "n", env).config.ttl, ttl);
  }
});

Deno.test("parseNetsocketConfig reads 0.0.0.0 as no interface, like INADDR_ANY", () => {
  const text = json({ ...V4, "in interface": "0.0.0.0", "out interface": "127.0.0.1" });
  const { config } = parseNetsocketConfig(text, "net.json", env);
  assert.equal(config.inInterface, null);
  assert.deepEqual(config.outInterface, {
    kind: "address",
    text: "127.0.0.1",
    address: new Uint8Array([127, 0, 0, 1]),
    name: "lo",
  });
});

Deno.test("parseNetsocketConfig accepts comments, trailing commas and any key case", () => {
  const text = `// joold, site A
{
  /* the group */ "Multicast Address": "233.252.0.64",
  "MULTICAST PORT": 6464, // no quotes needed
  "In Interface": "192.0.2.1",
  "TTL": 4,
}
`;
  const { config, warnings } = parseNetsocketConfig(text, "net.json", env);
  assert.deepEqual(warnings, []);
  assert.equal(config.address, "233.252.0.64");
  assert.equal(config.port, 6464);
  assert.equal(config.inInterface?.kind, "address");
  assert.equal(config.ttl, 4);
});

Deno.test("parseNetsocketConfig warns about unknown keys and ignores them", () => {
  const text = json({
    ...V6,
    tll: 3,
    "multicast-address": "ff08::2",
    "in_interface": "eth0",
    "stats port": 45678,
    "": 1,
  });
  const { config, warnings } = parseNetsocketConfig(text, "conf/net.json", env);
  assert.equal(config.ttl, 1);
  assert.equal(config.address, "ff08::db8:64:64");
  assert.equal(config.inInterface, null);
  assert.deepEqual(warnings, [
    'conf/net.json: unknown key "tll" ignored (did you mean "ttl"?)',
    'conf/net.json: unknown key "multicast-address" ignored (did you mean "multicast address"?)',
    'conf/net.json: unknown key "in_interface" ignored (did you mean "in interface"?)',
    'conf/net.json: unknown key "stats port" ignored',
    'conf/net.json: unknown key "" ignored',
  ]);
});

Deno.test("loadNetsocketConfig reads the file and names it as given", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = `${directory}/net.json`;
    await Deno.writeTextFile(path, json({ ...V6, "out interface": "eth0", ttl: 7 }));
    const { config } = await loadNetsocketConfig(path, env);
    assert.equal(config.file, path);
    assert.equal(config.ttl, 7);
    assert.deepEqual(config.outInterface, { kind: "name", text: "eth0", index: 2 });

    await assert.rejects(
      () => loadNetsocketConfig(`${directory}/absent.json`, env),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          `${directory}/absent.json: cannot read the file: No such file or directory`,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test('"auth cluster": a short name, only with "auth key file"', () => {
  const base = '"multicast address": "ff08::db8:64:64", "multicast port": 6464';
  const parse = (extra: string) =>
    parseNetsocketConfig(`{ ${base}, ${extra} }`, "net.json", env).config.authCluster ?? null;
  assert.equal(parse('"auth key file": "k", "auth cluster": "east"'), "east");
  assert.equal(parse('"auth key file": "k"'), null);
  const cases: [string, string][] = [
    [
      '"auth key file": "k", "auth cluster": 7',
      'net.json: "auth cluster": must be a name of 1 to 64 bytes, got a number',
    ],
    [
      '"auth key file": "k", "auth cluster": ""',
      'net.json: "auth cluster": must be a name of 1 to 64 bytes, got 0 bytes',
    ],
    [
      `"auth key file": "k", "auth cluster": "${"x".repeat(65)}"`,
      'net.json: "auth cluster": must be a name of 1 to 64 bytes, got 65 bytes',
    ],
    [
      '"auth cluster": "east"',
      'net.json: "auth cluster": needs "auth key file" (it names a sealed cluster)',
    ],
  ];
  for (const [extra, message] of cases) assert.throws(() => parse(extra), { message });
});

Deno.test('"reliable delivery": on by default with a control port; false turns it off', () => {
  const base = '"multicast address": "ff08::db8:64:64", "multicast port": 6464';
  const on = (extra: string) =>
    reliableDeliveryOn(parseNetsocketConfig(`{ ${base}${extra} }`, "net.json", env).config);
  const cases: [string, boolean][] = [
    ["", true],
    [', "reliable delivery": true', true],
    [', "reliable delivery": false', false],
    [', "control port": false', false],
  ];
  for (const [extra, expected] of cases) assert.equal(on(extra), expected, extra);
  assert.throws(() => on(', "reliable delivery": "no"'), {
    message: 'net.json: "reliable delivery": must be true or false, got a string',
  });
  assert.throws(() => on(', "control port": false, "reliable delivery": true'), {
    message: 'net.json: "reliable delivery": needs the control port (drop "control port": false)',
  });
});

Deno.test('"auth key file": relative to the netsocket file\'s directory; must be a path', () => {
  const base = '"multicast address": "ff08::db8:64:64", "multicast port": 6464';
  const keyFile = (value: string, file: string) =>
    parseNetsocketConfig(`{ ${base}, "auth key file": ${value} }`, file, env).config.authKeyFile;
  assert.equal(keyFile('"keys"', "/etc/joold/net.json"), "/etc/joold/keys");
  assert.equal(keyFile('"/srv/keys"', "/etc/joold/net.json"), "/srv/keys");
  assert.equal(keyFile('"keys"', "net.json"), "keys");
  assert.throws(
    () => keyFile("1", "net.json"),
    {
      message:
        'net.json: "auth key file": must be the path of a key file (joold keygen makes one), got a number',
    },
  );
  assert.throws(
    () => keyFile('""', "net.json"),
    {
      message:
        'net.json: "auth key file": must be the path of a key file (joold keygen makes one), got ""',
    },
  );
});

Deno.test('"unicast peers": the group\'s family and port are the defaults', () => {
  const text = `{ "multicast address": "233.252.0.64", "multicast port": 7000,
    "unicast peers": ["192.0.2.2", "192.0.2.3:7100"] }`;
  const peers = parseNetsocketConfig(text, "n.json", env).config.unicastPeers!;
  assert.deepEqual(peers.map((peer) => [peer.text, peer.port]), [
    ["192.0.2.2", 7000],
    ["192.0.2.3:7100", 7100],
  ]);
  assert.throws(
    () =>
      parseNetsocketConfig(
        '{ "multicast address": "233.252.0.64", "multicast port": 7000, "unicast peers": ["2001:db8::2"] }',
        "n.json",
        env,
      ),
    /^ConfigError: n\.json: "unicast peers": "2001:db8::2" is IPv6, but "multicast address" is IPv4/,
  );
});

Deno.test('"auth key file" needs the control port, where the daemon starts and joold check look', () => {
  const parse = (keys: Record<string, unknown>) =>
    parseNetsocketConfig(json({ ...V6, ...keys }), "net.json", env).config;
  const sealed = parse({ "control port": false, "auth key file": "sync.key" });
  assert.throws(() => requireControlPortWhenSealed(sealed), {
    message: 'net.json: "auth key file": needs the control port (peers prove over it that they ' +
      'are live); drop "control port": false',
  });
  requireControlPortWhenSealed(parse({ "auth key file": "sync.key" }));
  requireControlPortWhenSealed(parse({ "control port": false }));
});
