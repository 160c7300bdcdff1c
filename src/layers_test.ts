/**
 * The import graph of main.ts, src/ and ffi/: a module imports only from its
 * own layer or a lower one, and no module reaches itself through its imports.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The layers, lowest first. A path ending in `/` is a folder (with its
 * tests); a `_test.ts` file belongs where its module does.
 */
const LAYERS: readonly (readonly string[])[] = [
  // libc, the only code that calls it, and the host's byte order.
  ["ffi/"],
  // Leaves every part may use.
  ["src/error_text.ts", "src/exit_status.ts", "src/log.ts", "src/problem.ts", "src/version.ts"],
  // Addresses, ports, socket reads; netlink codecs.
  ["src/net/", "src/netlink/"],
  // Jool's messages and session encodings.
  ["src/jool/"],
  // Configuration files, counters and the stats servers, the sealed datagrams.
  ["src/auth/", "src/config/", "src/stats/"],
  // The kernel link and the sync sockets; what reads the system for them.
  ["src/jool_module_version.ts", "src/sync/", "src/stderr_sink.ts", "src/syslog_sink.ts"],
  // The daemon's parts, then their wiring.
  ["src/daemon/"],
  ["src/daemon.ts"],
  // The commands (the daemon's own run among them) and their command line.
  ["src/command_line.ts", "src/commands/"],
  ["main.ts"],
];

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));

function layerOf(path: string): number {
  const module = path.replace(/_test\.ts$/, ".ts");
  const index = LAYERS.findIndex((layer) =>
    layer.some((entry) => entry.endsWith("/") ? module.startsWith(entry) : module === entry)
  );
  assert.notEqual(index, -1, `${path} is in no layer: add it to LAYERS`);
  return index;
}

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, folder))) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** Every `import … from "./x"` and `export … from "./x"`, as paths from the root. */
export function relativeImports(path: string, text: string): string[] {
  const imports: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)"/gms)) {
    imports.push(relative(ROOT, normalize(join(ROOT, dirname(path), match[1]))));
  }
  return imports;
}

async function importGraph(): Promise<Map<string, string[]>> {
  const files = ["main.ts", ...await sourceFiles("src"), ...await sourceFiles("ffi")];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    graph.set(file, relativeImports(file, await Deno.readTextFile(join(ROOT, file))));
  }
  return graph;
}

Deno.test("relativeImports() reads import and export lines, over several lines too", () => {
  const text = [
    'import { a } from "./a.ts";',
    "import {",
    "  b,",
    '} from "../net/b.ts";',
    'export { c } from "./c.ts";',
    'import type { D } from "../../ffi/d.ts";',
    'import assert from "node:assert/strict";',
    '// import { e } from "./e.ts" in a comment is not at a line start',
  ].join("\n");
  assert.deepEqual(relativeImports("src/sync/x.ts", text), [
    "src/sync/a.ts",
    "src/net/b.ts",
    "src/sync/c.ts",
    "ffi/d.ts",
  ]);
});

Deno.test("no module imports from a higher layer", async () => {
  const upward: string[] = [];
  for (const [file, imports] of await importGraph()) {
    for (const imported of imports) {
      if (!imported.startsWith("src/") && !imported.startsWith("ffi/")) continue;
      if (layerOf(imported) > layerOf(file)) upward.push(`${file} -> ${imported}`);
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("no module imports itself, directly or through others", async () => {
  const graph = await importGraph();
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    const at = path.indexOf(file);
    if (at !== -1) {
      cycles.push([...path.slice(at), file].join(" -> "));
      return;
    }
    if (done.has(file)) return;
    for (const imported of graph.get(file) ?? []) visit(imported, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});
