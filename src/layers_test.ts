/**
 * The import graph of main.ts, src/ and ffi/: a module imports only from its
 * own layer or a lower one, no module reaches itself through its imports,
 * and what main.ts imports statically loads no `node:` module.
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
  [
    "src/error_text.ts",
    "src/exit_status.ts",
    "src/iso_time.ts",
    "src/log.ts",
    "src/problem.ts",
    "src/version.ts",
  ],
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

/** The specifier of every static `import` and `export … from`, as written. */
function importSpecifiers(text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\s(?:[^;]*?\sfrom\s+)?"([^"]+)"/gms)].map((match) =>
    match[1]
  );
}

function isRelative(specifier: string): boolean {
  return /^\.{1,2}\//.test(specifier);
}

/** A specifier of `path`: a relative one as a path from the root, any other as written. */
function fromRoot(path: string, specifier: string): string {
  return isRelative(specifier)
    ? relative(ROOT, normalize(join(ROOT, dirname(path), specifier)))
    : specifier;
}

/** Every relative `import` and `export … from`, as paths from the root. */
export function relativeImports(path: string, text: string): string[] {
  return importSpecifiers(text).filter(isRelative).map((specifier) => fromRoot(path, specifier));
}

/** Each module's source text and its static imports (see {@link fromRoot}). */
async function importGraph(): Promise<Map<string, { text: string; imports: string[] }>> {
  const files = ["main.ts", ...await sourceFiles("src"), ...await sourceFiles("ffi")];
  const graph = new Map<string, { text: string; imports: string[] }>();
  for (const file of files) {
    const text = await Deno.readTextFile(join(ROOT, file));
    graph.set(file, { text, imports: importSpecifiers(text).map((s) => fromRoot(file, s)) });
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
  for (const [file, { imports }] of await importGraph()) {
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
    for (const imported of graph.get(file)?.imports ?? []) visit(imported, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

/**
 * The modules that may import a `node:` module, dynamically only, when its
 * feature is configured: `node:crypto` brings Deno's Node compatibility
 * layer, some 20 ms and 7 MiB at every start (see the module).
 */
const NODE_LOADERS = ["src/auth/chacha20_poly1305.ts"];

Deno.test("what main.ts imports statically reaches no node: module", async () => {
  const graph = await importGraph();
  const reached = new Set<string>();
  const pending = ["main.ts"];
  const nodeImports: string[] = [];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    for (const imported of graph.get(file)?.imports ?? []) {
      if (imported.startsWith("node:")) nodeImports.push(`${file} -> ${imported}`);
      else pending.push(imported);
    }
  }
  assert.deepEqual(nodeImports, []);
});

Deno.test("only the named modules import a node: module, and only dynamically", async () => {
  const loaders: string[] = [];
  for (const [file, { text }] of await importGraph()) {
    if (!file.endsWith("_test.ts") && /\bimport\(\s*["']node:/.test(text)) loaders.push(file);
  }
  assert.deepEqual(loaders.sort(), NODE_LOADERS);
});
