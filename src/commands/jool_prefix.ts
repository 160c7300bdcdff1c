/**
 * What `jool` reads before its mode (`jool -i NAME session proxy ...`):
 * `-i/--instance NAME` or `-f/--file FILE` (Jool's instance file: a JSON
 * object whose `instance` member names it), as getopt_long reads them in
 * Jool 4.1.15's src/usr/argp/main.c: `-iNAME` or `-i NAME`, `--instance=NAME`
 * or `--instance NAME`, a long name shortened to any unambiguous prefix
 * (`--inst`), the last one given winning, and the first word that is not an
 * option ending them. The words after it are the mode and the operation,
 * which Jool also matches by unambiguous prefix (`jool se pro`).
 *
 * @module
 */

import { CommandLineError, instanceFlag } from "../command_line.ts";
import { ConfigError } from "../config/errors.ts";
import { parseConfigObject, readConfigFile } from "../config/json_file.ts";

/** Where the instance comes from, as given before the command. */
export type InstanceSource =
  | { kind: "name"; name: string }
  | { kind: "file"; path: string };

/** The options found before the command, and the words from the command on. */
export interface JoolPrefix {
  instance: InstanceSource | null;
  /** The words from the first one that is not an option. */
  rest: string[];
}

const LONG_OPTIONS = { instance: "i", file: "f" } as const;

/**
 * Reads the `-i`/`-f` options at the start of `args` (only those: the rest
 * is left as it is, from the first word that is none of them).
 *
 * @throws {CommandLineError} For an option without its value or an
 * ambiguous long prefix.
 */
export function parseJoolPrefix(args: readonly string[]): JoolPrefix {
  let instance: InstanceSource | null = null;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    let letter: string | null = null;
    let inline: string | undefined;
    if (/^-[if]/.test(arg)) {
      letter = arg[1];
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    } else if (arg.startsWith("--") && arg.length > 2) {
      const equals = arg.indexOf("=");
      const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      const matches = Object.keys(LONG_OPTIONS).filter((long) => long.startsWith(name));
      if (matches.length !== 1) break;
      letter = LONG_OPTIONS[matches[0] as keyof typeof LONG_OPTIONS];
      inline = equals < 0 ? undefined : arg.slice(equals + 1);
    }
    if (letter === null) break;
    const flag = letter === "i" ? "--instance" : "--file";
    if (inline === undefined) {
      if (i + 1 >= args.length) {
        throw new CommandLineError(`Option '${flag} <value>' argument missing`);
      }
      inline = args[++i];
    }
    instance = letter === "i"
      ? { kind: "name", name: instanceFlag(inline) }
      : { kind: "file", path: inline };
  }
  return { instance, rest: args.slice(i) };
}

/**
 * The one word of `choices` that `word` is, or is an unambiguous prefix of
 * (Jool's matching of modes and operations); null if none.
 */
export function matchKeyword<T extends string>(word: string, choices: readonly T[]): T | null {
  if (word === "") return null;
  if ((choices as readonly string[]).includes(word)) return word as T;
  const matches = choices.filter((choice) => choice.startsWith(word));
  return matches.length === 1 ? matches[0] : null;
}

/**
 * The instance named by Jool's instance file: its `instance` member (the
 * first, the key matched without regard to case, as Jool does).
 *
 * @throws {CommandLineError} `--file: FILE: ...` if it cannot be read, is no
 * JSON object, or names no valid instance.
 */
export async function readInstanceFile(path: string): Promise<string> {
  try {
    const members = parseConfigObject(await readConfigFile(path), path);
    const member = members.find((entry) => entry.key.toLowerCase() === "instance");
    if (member === undefined) {
      throw new CommandLineError(`--file: ${path}: has no "instance" member`);
    }
    if (typeof member.value !== "string") {
      throw new CommandLineError(`--file: ${path}: "instance" must be a string`);
    }
    return instanceFlag(member.value);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandLineError(`--file: ${error.message}`);
    throw error;
  }
}

/** The instance `source` names (reading the file if it is one). */
export async function resolveInstance(source: InstanceSource): Promise<string> {
  return source.kind === "name" ? source.name : await readInstanceFile(source.path);
}
