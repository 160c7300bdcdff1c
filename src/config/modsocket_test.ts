import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import {
  loadModsocketConfig,
  loadModsocketConfigOrDefault,
  parseModsocketConfig,
} from "./modsocket.ts";

Deno.test("parseModsocketConfig rejects bad files with one precise line", () => {
  const table: [string, string][] = [
    ["", "mod.json: the file is empty; it must hold a JSON object"],
    ['"default"', "mod.json: the top level must be a JSON object"],
    ['[{"instance": "default"}]', "mod.json: the top level must be a JSON object"],
    ['{ "instance": "default" ', "mod.json:1:25: syntax error: close brace expected"],
    ['{ "instance": default }', "mod.json:1:15: syntax error: invalid symbol"],
    ['{\n  "instance": "a\nb"\n}', "mod.json:2:15: syntax error: unexpected end of string"],
    ['{ "instance": 5 }', 'mod.json: "instance": must be a string, got a number'],
    ['{ "instance": null }', 'mod.json: "instance": must be a string, got null'],
    ['{ "instance": true }', 'mod.json: "instance": must be a string, got a boolean'],
    ['{ "instance": "" }', 'mod.json: "instance": must not be empty'],
    [
      '{ "instance": "sixteen-letters!" }',
      'mod.json: "instance": must be at most 15 characters long, got 16 ("sixteen-letters!")',
    ],
    [
      '{ "instance": "ñandú" }',
      'mod.json: "instance": must be printable ASCII characters only, got "ñandú"',
    ],
    [
      '{ "instance": "a\\tb" }',
      'mod.json: "instance": must be printable ASCII characters only, got "a\\tb"',
    ],
    [
      '{ "INSTANCE": "a", "instance": "b" }',
      'mod.json: "instance": is given more than once (also as "INSTANCE")',
    ],
    [
      '{ "enable ss": "true" }',
      'mod.json: "enable ss": must be true or false, got a string; write true without quotes',
    ],
    ['{ "enable ss": 1 }', 'mod.json: "enable ss": must be true or false, got a number'],
    ['{ "enable ss": "yes" }', 'mod.json: "enable ss": must be true or false, got a string'],
    [
      '{ "ss max payload": 1451 }',
      'mod.json: "ss max payload": must be a number of bytes from 1452 to 64000, or false to ' +
      "leave the instance's ss-max-payload alone; got 1451",
    ],
    [
      '{ "ss max payload": 64001 }',
      'mod.json: "ss max payload": must be a number of bytes from 1452 to 64000, or false to ' +
      "leave the instance's ss-max-payload alone; got 64001",
    ],
    [
      '{ "ss max payload": "16384" }',
      'mod.json: "ss max payload": must be a number of bytes from 1452 to 64000, or false to ' +
      "leave the instance's ss-max-payload alone; got a string",
    ],
    [
      '{ "ss max payload": true }',
      'mod.json: "ss max payload": must be a number of bytes from 1452 to 64000, or false to ' +
      "leave the instance's ss-max-payload alone; got a boolean",
    ],
    [
      '{ "ss capacity": 511 }',
      'mod.json: "ss capacity": must be a number of sessions from 512 to 1048576, or false to ' +
      "leave the instance's ss-capacity alone; got 511",
    ],
    [
      '{ "ss capacity": 1048577 }',
      'mod.json: "ss capacity": must be a number of sessions from 512 to 1048576, or false to ' +
      "leave the instance's ss-capacity alone; got 1048577",
    ],
    [
      '{ "ss capacity": 4096.5 }',
      'mod.json: "ss capacity": must be a number of sessions from 512 to 1048576, or false to ' +
      "leave the instance's ss-capacity alone; got 4096.5",
    ],
    [
      '{ "ss capacity": "4096" }',
      'mod.json: "ss capacity": must be a number of sessions from 512 to 1048576, or false to ' +
      "leave the instance's ss-capacity alone; got a string",
    ],
    [
      '{ "ss flush deadline": 9 }',
      'mod.json: "ss flush deadline": must be a number of milliseconds from 10 to 2000, or false ' +
      "to leave the instance's ss-flush-deadline alone; got 9",
    ],
    [
      '{ "ss flush deadline": true }',
      'mod.json: "ss flush deadline": must be a number of milliseconds from 10 to 2000, or false ' +
      "to leave the instance's ss-flush-deadline alone; got a boolean",
    ],
    [
      '{ "ss flush asap": "yes" }',
      'mod.json: "ss flush asap": must be true or false, got a string',
    ],
    [
      '{ "netlink receive buffer": 4095 }',
      'mod.json: "netlink receive buffer": must be a number of bytes from 4096 to 1073741824, got 4095',
    ],
    [
      '{ "netlink receive buffer": 1073741825 }',
      'mod.json: "netlink receive buffer": must be a number of bytes from 4096 to 1073741824, got 1073741825',
    ],
    [
      '{ "netlink receive buffer": 65536.5 }',
      'mod.json: "netlink receive buffer": must be a number of bytes from 4096 to 1073741824, got 65536.5',
    ],
    [
      '{ "netlink receive buffer": "65536" }',
      'mod.json: "netlink receive buffer": must be a number of bytes from 4096 to 1073741824, got a string',
    ],
    [
      '{ "netlink receive buffer": false }',
      'mod.json: "netlink receive buffer": must be a number of bytes from 4096 to 1073741824, got a boolean',
    ],
  ];
  const wrong: string[] = [];
  for (const [text, expected] of table) {
    let actual: string;
    try {
      parseModsocketConfig(text, "mod.json");
      actual = "(no error)";
    } catch (error) {
      actual = error instanceof ConfigError ? error.message : `(not a ConfigError) ${error}`;
    }
    if (actual !== expected) wrong.push(`${text}\n  expected: ${expected}\n  actual:   ${actual}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("parseModsocketConfig reads the man page's example", () => {
  assert.deepEqual(parseModsocketConfig('{ "instance": "default" }', "modsocket.json"), {
    config: {
      file: "modsocket.json",
      instance: "default",
      enableSs: true,
      ssMaxPayload: 32768,
      ssCapacity: 16384,
      ssFlushAsap: true,
      ssFlushDeadline: 20,
      netlinkReceiveBuffer: 4194304,
    },
    warnings: [],
  });
});

Deno.test("parseModsocketConfig fills defaults", () => {
  assert.deepEqual(parseModsocketConfig("{}", "m.json").config, {
    file: "m.json",
    instance: "default",
    enableSs: true,
    ssMaxPayload: 32768,
    ssCapacity: 16384,
    ssFlushAsap: true,
    ssFlushDeadline: 20,
    netlinkReceiveBuffer: 4194304,
  });
});

Deno.test("parseModsocketConfig reads every key, in any case, with comments", () => {
  const text = `{
    // The instance added with "jool instance add nat64-site-a".
    "Instance": "nat64-site-a.15",
    "enable SS": false, /* the operator enables it */
  }`;
  assert.deepEqual(parseModsocketConfig(text, "m.json"), {
    config: {
      file: "m.json",
      instance: "nat64-site-a.15",
      enableSs: false,
      ssMaxPayload: 32768,
      ssCapacity: 16384,
      ssFlushAsap: true,
      ssFlushDeadline: 20,
      netlinkReceiveBuffer: 4194304,
    },
    warnings: [],
  });
});

Deno.test("parseModsocketConfig reads ss max payload: bytes, or false to leave it alone", () => {
  const table: [string, number | null][] = [
    ["{}", 32768],
    ['{ "ss max payload": 1452 }', 1452],
    ['{ "ss max payload": 64000 }', 64000],
    ['{ "SS Max Payload": 32768 }', 32768],
    ['{ "ss max payload": false }', null],
  ];
  for (const [text, expected] of table) {
    assert.equal(parseModsocketConfig(text, "m.json").config.ssMaxPayload, expected, text);
  }
});

Deno.test("parseModsocketConfig reads ss capacity: sessions, or false to leave it alone", () => {
  const table: [string, number | null][] = [
    ["{}", 16384],
    ['{ "ss capacity": 512 }', 512],
    ['{ "ss capacity": 1048576 }', 1048576],
    ['{ "SS Capacity": 65536 }', 65536],
    ['{ "ss capacity": false }', null],
  ];
  for (const [text, expected] of table) {
    assert.equal(parseModsocketConfig(text, "m.json").config.ssCapacity, expected, text);
  }
});

Deno.test("parseModsocketConfig reads ss flush asap and ss flush deadline, each can be off", () => {
  const table: [string, boolean, number | null][] = [
    ["{}", true, 20],
    ['{ "ss flush deadline": 10 }', true, 10],
    ['{ "SS Flush Deadline": 2000 }', true, 2000],
    ['{ "ss flush deadline": false }', true, null],
    ['{ "ss flush asap": false }', false, 20],
  ];
  for (const [text, asap, deadline] of table) {
    const { config } = parseModsocketConfig(text, "m.json");
    assert.deepEqual([config.ssFlushAsap, config.ssFlushDeadline], [asap, deadline], text);
  }
});

Deno.test("parseModsocketConfig reads netlink receive buffer: bytes, 4 MiB by default", () => {
  const table: [string, number][] = [
    ["{}", 4194304],
    ['{ "netlink receive buffer": 4096 }', 4096],
    ['{ "Netlink Receive Buffer": 67108864 }', 67108864],
  ];
  for (const [text, expected] of table) {
    assert.equal(parseModsocketConfig(text, "m.json").config.netlinkReceiveBuffer, expected, text);
  }
});

Deno.test("parseModsocketConfig accepts any printable ASCII instance name", () => {
  for (const instance of ["a", " ", "~!@#$%^&*()_+{}", "Default", "x y"]) {
    const text = JSON.stringify({ instance });
    assert.equal(parseModsocketConfig(text, "m.json").config.instance, instance);
  }
});

Deno.test("parseModsocketConfig warns about unknown keys and ignores them", () => {
  const text = '{ "instanse": "x", "iname": "y", "enable-ss": false, "instance": "z" }';
  assert.deepEqual(parseModsocketConfig(text, "mod.json"), {
    config: {
      file: "mod.json",
      instance: "z",
      enableSs: true,
      ssMaxPayload: 32768,
      ssCapacity: 16384,
      ssFlushAsap: true,
      ssFlushDeadline: 20,
      netlinkReceiveBuffer: 4194304,
    },
    warnings: [
      'mod.json: unknown key "instanse" ignored (did you mean "instance"?)',
      'mod.json: unknown key "iname" ignored',
      'mod.json: unknown key "enable-ss" ignored (did you mean "enable ss"?)',
    ],
  });
});

Deno.test("loadModsocketConfig reads the file and names it as given", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = `${directory}/mod.json`;
    await Deno.writeTextFile(path, '\ufeff{ "instance": "site-b" }\n');
    assert.deepEqual(await loadModsocketConfig(path), {
      config: {
        file: path,
        instance: "site-b",
        enableSs: true,
        ssMaxPayload: 32768,
        ssCapacity: 16384,
        ssFlushAsap: true,
        ssFlushDeadline: 20,
        netlinkReceiveBuffer: 4194304,
      },
      warnings: [],
    });
    await assert.rejects(
      () => loadModsocketConfig(directory),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, `${directory}: cannot read the file: Is a directory`);
        return true;
      },
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("loadModsocketConfigOrDefault: an absent default file means instance default", async () => {
  const dir = await Deno.makeTempDir({ prefix: "joold-modsocket-" });
  try {
    const absent = `${dir}/modsocket.json`;
    assert.deepEqual(await loadModsocketConfigOrDefault(absent, true), {
      config: {
        file: "(none)",
        instance: "default",
        enableSs: true,
        ssMaxPayload: 32768,
        ssCapacity: 16384,
        ssFlushAsap: true,
        ssFlushDeadline: 20,
        netlinkReceiveBuffer: 4194304,
      },
      warnings: [],
    });
    await assert.rejects(
      loadModsocketConfigOrDefault(absent, false),
      (error) => error instanceof ConfigError && /cannot read the file/.test(error.message),
    );
    await Deno.writeTextFile(absent, '{ "instance": "alpha", "enable ss": false }');
    assert.deepEqual((await loadModsocketConfigOrDefault(absent, true)).config, {
      file: absent,
      instance: "alpha",
      enableSs: false,
      ssMaxPayload: 32768,
      ssCapacity: 16384,
      ssFlushAsap: true,
      ssFlushDeadline: 20,
      netlinkReceiveBuffer: 4194304,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
