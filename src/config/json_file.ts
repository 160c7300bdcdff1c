/**
 * Reading the daemon's JSON configuration files: the bytes, the JSONC
 * syntax (comments and trailing commas are fine), and the keys of the
 * top-level object.
 *
 * Keys match case-insensitively (ASCII only), as they did in the reference
 * daemon, whose cJSON_GetObjectItem() compares with strcasecmp().
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { ConfigError, type FilePosition } from "./errors.ts";

/**
 * Files larger than this are refused rather than read (before any parsing):
 * no config is that big (the examples are a few hundred bytes).
 */
export const MAX_CONFIG_FILE_SIZE = 64 * 1024;
/** An unknown key is quoted in its warning up to this many characters. */
export const MAX_QUOTED_KEY = 64;

/** One `"key": value` pair of the top-level object. */
export interface JsonMember {
  /** The key, unescaped, as spelled in the file. */
  key: string;
  /** The value, as JSON.parse would give it. */
  value: unknown;
  /** The value's source text, e.g. `300` or `"6464"`. */
  raw: string;
}

/**
 * Reads a configuration file as UTF-8 text (a leading byte order mark is
 * dropped). Pipes such as `/dev/stdin` work; a FIFO named by another path
 * is refused (opening one without a writer would wait for ever), and so is
 * anything over {@link MAX_CONFIG_FILE_SIZE}. The reads are synchronous:
 * nothing else runs while joold starts, and Deno's first asynchronous file
 * operation costs about 3 ms of CPU and 2 MiB of resident code.
 *
 * Rejects with a {@link ConfigError}: `net.json: cannot read the file: No such file or directory`
 */
export function readConfigFile(file: string): Promise<string> {
  try {
    return Promise.resolve(readConfigText(file));
  } catch (error) {
    return Promise.reject(error);
  }
}

function readConfigText(file: string): string {
  let bytes: Uint8Array;
  try {
    if (!isOpenDescriptor(file) && Deno.statSync(file).isFifo === true) {
      throw new ConfigError(
        file,
        null,
        "cannot read the file: it is a FIFO (name a regular file, or /dev/stdin for a pipe)",
      );
    }
    bytes = readAtMost(file, MAX_CONFIG_FILE_SIZE);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(file, null, `cannot read the file: ${describeReadError(error)}`);
  }
  if (bytes.length > MAX_CONFIG_FILE_SIZE) {
    throw new ConfigError(
      file,
      null,
      `cannot read the file: it is larger than ${MAX_CONFIG_FILE_SIZE} bytes`,
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(file, null, "cannot read the file: it is not valid UTF-8 text");
  }
}

/** Whether `path` names a descriptor this process has open already (no open can wait). */
function isOpenDescriptor(path: string): boolean {
  return /^\/dev\/(stdin|fd\/\d+)$|^\/proc\/self\/fd\/\d+$/.test(path);
}

/** Reads up to `limit + 1` bytes, so the caller can tell "too big" apart. */
function readAtMost(path: string, limit: number): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = new Uint8Array(64 * 1024);
      const count = file.readSync(chunk);
      if (count === null) break;
      chunks.push(chunk.subarray(0, count));
      total += count;
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } finally {
    file.close();
  }
}

/**
 * The system's words for a failed read, without Deno's `(os error 2): open
 * 'net.json'` tail: the file name is already at the start of the line.
 */
function describeReadError(error: unknown): string {
  const message = errorText(error);
  const plain = message.replace(/\s*\(os error \d+\)[\s\S]*$/, "").replace(/\s+/g, " ").trim();
  return plain === "" ? "unknown error" : plain;
}

/**
 * Parses JSONC text whose top level must be an object, and lists its
 * members in file order (duplicates included; see {@link selectKeys}).
 *
 * @throws {ConfigError} On the first syntax error
 * (`net.json:3:14: syntax error: value expected`), on an empty file, or if
 * the top level is not an object.
 */
export function parseConfigObject(text: string, file: string): JsonMember[] {
  if (text.trim() === "") {
    throw new ConfigError(file, null, "the file is empty; it must hold a JSON object");
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0];
    throw new ConfigError(
      file,
      null,
      `syntax error: ${errorCodeWords(printParseErrorCode(first.error))}`,
      positionOf(text, first.offset),
    );
  }
  if (root === undefined || root.type !== "object") {
    throw new ConfigError(file, null, "the top level must be a JSON object");
  }
  const members: JsonMember[] = [];
  for (const property of root.children ?? []) {
    const [name, value] = property.children ?? [];
    if (name === undefined || value === undefined) continue; // Only after syntax errors.
    members.push({
      key: String(name.value),
      value: valueOf(value),
      raw: text.slice(value.offset, value.offset + value.length),
    });
  }
  return members;
}

/**
 * A node's value. Built by hand rather than with getNodeValue() so that a
 * `"__proto__"` key in a nested object stays a plain property.
 */
function valueOf(node: Node): unknown {
  switch (node.type) {
    case "object": {
      const object: Record<string, unknown> = Object.create(null);
      for (const property of node.children ?? []) {
        const [name, value] = property.children ?? [];
        if (name !== undefined && value !== undefined) {
          Object.defineProperty(object, String(name.value), {
            value: valueOf(value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return object;
    }
    case "array":
      return (node.children ?? []).map(valueOf);
    default:
      return node.value;
  }
}

/** `ValueExpected` becomes `value expected`. */
function errorCodeWords(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * The 1-based line and column of a UTF-16 offset into `text`. Lines end at
 * `\n`, `\r\n` or a lone `\r` (as jsonc-parser counts them); columns count
 * characters (code points), as editors do.
 */
export function positionOf(text: string, offset: number): FilePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x0a || (code === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = [...text.slice(lineStart, Math.min(offset, text.length))].length + 1;
  return { line, column };
}

/**
 * How a JSON value's type reads in an error message: `a string`,
 * `a number`, `a boolean`, `null`, `an array`, `an object`.
 */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return "an object";
  }
}

/** The members the loader knows, by canonical key, and the leftovers. */
export interface SelectedKeys {
  /** Known members, keyed by their canonical (lower-case) key. */
  found: Map<string, JsonMember>;
  /** One line per unknown key, e.g. `net.json: unknown key "tll" ignored (did you mean "ttl"?)`. */
  warnings: string[];
}

/**
 * Sorts members into known keys (`known` must be lower case) and warnings
 * for the rest.
 *
 * @throws {ConfigError} If a known key appears twice (in any letter case):
 * the reference daemon silently took the first, which hides mistakes.
 */
export function selectKeys(
  members: readonly JsonMember[],
  file: string,
  known: readonly string[],
): SelectedKeys {
  const found = new Map<string, JsonMember>();
  const warnings: string[] = [];
  for (const member of members) {
    const canonical = asciiLowerCase(member.key);
    if (known.includes(canonical)) {
      const earlier = found.get(canonical);
      if (earlier !== undefined) {
        throw new ConfigError(
          file,
          member.key,
          earlier.key === member.key
            ? "is given more than once"
            : `is given more than once (also as ${JSON.stringify(earlier.key)})`,
        );
      }
      found.set(canonical, member);
      continue;
    }
    const guess = closestKey(canonical, known);
    const quoted = member.key.length <= MAX_QUOTED_KEY
      ? JSON.stringify(member.key)
      : `${
        JSON.stringify(member.key.slice(0, MAX_QUOTED_KEY))
      }... (${member.key.length} characters)`;
    warnings.push(
      `${file}: unknown key ${quoted} ignored` +
        (guess === null ? "" : ` (did you mean ${JSON.stringify(guess)}?)`),
    );
  }
  return { found, warnings };
}

/** strcasecmp() folds ASCII letters only; so does this. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/**
 * The known key an unknown one was probably meant to be: within two edits
 * (or one, for short keys), ignoring spaces, dashes and underscores.
 */
function closestKey(key: string, known: readonly string[]): string | null {
  const squash = (text: string) => text.replace(/[\s_-]+/g, "");
  let best: string | null = null;
  let bestDistance = Infinity;
  const squashed = squash(key);
  for (const candidate of known) {
    // The distance is at least the difference in length: no need to compute it.
    if (Math.abs(squashed.length - squash(candidate).length) > 2) continue;
    const distance = editDistance(squashed, squash(candidate));
    const allowed = candidate.length <= 4 ? 1 : 2;
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(value);
    }
  }
  return rows[a.length][b.length];
}
