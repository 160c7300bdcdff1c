import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import {
  jsonTypeName,
  MAX_CONFIG_FILE_SIZE,
  parseConfigObject,
  positionOf,
  readConfigFile,
  selectKeys,
} from "./json_file.ts";

Deno.test("positionOf counts lines and characters from 1", () => {
  const table: [string, number, number, number][] = [
    // text, offset, line, column
    ["abc", 0, 1, 1],
    ["abc", 2, 1, 3],
    ["abc", 3, 1, 4],
    ["a\nbc", 2, 2, 1],
    ["a\nbc", 3, 2, 2],
    ["a\r\nbc", 3, 2, 1], // \r\n is one line break
    ["a\r\nbc", 2, 1, 3], // the \n of \r\n is still on line 1
    ["a\rbc", 2, 2, 1], // a lone \r breaks a line, as jsonc-parser counts
    ["\n\n\nx", 3, 4, 1],
    ["😀x", 2, 1, 2], // a surrogate pair is one character
    ["é\t!", 2, 1, 3],
  ];
  for (const [text, offset, line, column] of table) {
    assert.deepEqual(positionOf(text, offset), { line, column }, JSON.stringify([text, offset]));
  }
});

Deno.test("parseConfigObject reports the first syntax error with its position", () => {
  assert.throws(
    () => parseConfigObject('{\n  "😀": ,\n}', "f.json"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, "f.json:2:8: syntax error: value expected");
      assert.equal(error.line, 2);
      assert.equal(error.column, 8);
      assert.equal(error.key, null);
      assert.equal(error.problem, "syntax error: value expected");
      return true;
    },
  );
});

Deno.test("parseConfigObject lists members in order with their source text", () => {
  const members = parseConfigObject(
    '{ "a": 1.50, "b": "x", "a": [1], "c": {"__proto__": {"d": null}}, "__proto__": 2 }',
    "f.json",
  );
  assert.deepEqual(members.map((member) => [member.key, member.raw]), [
    ["a", "1.50"],
    ["b", '"x"'],
    ["a", "[1]"],
    ["c", '{"__proto__": {"d": null}}'],
    ["__proto__", "2"],
  ]);
  assert.equal(members[0].value, 1.5);
  assert.deepEqual(members[2].value, [1]);
  const nested = members[3].value as Record<string, unknown>;
  assert.ok(Object.hasOwn(nested, "__proto__"), "__proto__ stays an own property");
});

Deno.test("jsonTypeName names each JSON type", () => {
  const table: [unknown, string][] = [
    ["x", "a string"],
    [1, "a number"],
    [true, "a boolean"],
    [null, "null"],
    [[], "an array"],
    [{}, "an object"],
  ];
  for (const [value, name] of table) assert.equal(jsonTypeName(value), name);
});

Deno.test("selectKeys matches keys without regard to ASCII case only", () => {
  const members = parseConfigObject('{ "TTL": 1, "ınstance": 2 }', "f.json");
  const { found, warnings } = selectKeys(members, "f.json", ["ttl", "instance"]);
  assert.deepEqual([...found.keys()], ["ttl"]);
  // A dotless ı is not an i to strcasecmp(); it is close enough for a hint.
  assert.deepEqual(warnings, ['f.json: unknown key "ınstance" ignored (did you mean "instance"?)']);
});

Deno.test("readConfigFile reads UTF-8, drops a BOM and refuses the rest", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const good = `${directory}/good.json`;
    await Deno.writeFile(good, new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])); // BOM, "{}"
    assert.equal(await readConfigFile(good), "{}");

    const table: [string, Uint8Array | null, string][] = [
      ["absent.json", null, "cannot read the file: No such file or directory"],
      [
        "latin1.json",
        new Uint8Array([0x7b, 0x22, 0xf1, 0x22, 0x7d]), // {"ñ"} in Latin-1
        "cannot read the file: it is not valid UTF-8 text",
      ],
      [
        "huge.json",
        new Uint8Array(MAX_CONFIG_FILE_SIZE + 1).fill(0x20),
        `cannot read the file: it is larger than ${MAX_CONFIG_FILE_SIZE} bytes`,
      ],
    ];
    for (const [name, bytes, problem] of table) {
      const path = `${directory}/${name}`;
      if (bytes !== null) await Deno.writeFile(path, bytes);
      await assert.rejects(() => readConfigFile(path), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, `${path}: ${problem}`);
        return true;
      });
    }

    const exactlyMax = `${directory}/max.json`;
    await Deno.writeFile(exactlyMax, new Uint8Array(MAX_CONFIG_FILE_SIZE).fill(0x20));
    assert.equal((await readConfigFile(exactlyMax)).length, MAX_CONFIG_FILE_SIZE);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("a FIFO as a config file is refused at once, not waited on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/net.json`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("still waiting after 2 s")), 2000);
    });
    try {
      await assert.rejects(Promise.race([readConfigFile(fifo), guard]), {
        message:
          `${fifo}: cannot read the file: it is a FIFO (name a regular file, or /dev/stdin ` +
          "for a pipe)",
      });
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a huge unknown key costs little and is quoted in part", () => {
  const key = "x".repeat(MAX_CONFIG_FILE_SIZE - 100);
  const started = performance.now();
  const members = parseConfigObject(`{ "${key}": 1 }`, "net.json");
  const { warnings } = selectKeys(members, "net.json", ["ttl", "multicast port"]);
  const elapsedMs = performance.now() - started;
  assert.ok(elapsedMs < 1000, `${elapsedMs} ms`);
  assert.deepEqual(warnings, [
    `net.json: unknown key "${"x".repeat(64)}"... (${key.length} characters) ignored`,
  ]);
});
