/**
 * Command-line options: `--name value`, `--name=value`, `-x`, booleans and
 * positionals, with the same error sentences as Node's `parseArgs`; and the
 * flags several commands share, read by the one validator of each value.
 *
 * @module
 */

import { parseInstanceName } from "./jool/header.ts";
import { type LogLevel, parseLogLevel } from "./log.ts";
import { parsePort, type PortForms } from "./net/port.ts";
import { isProblem, type Problem } from "./problem.ts";

/** How one option is written and what it takes. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** A one-letter alias, e.g. `h` for `-h`. */
  short?: string;
}

/** The options a command knows, by long name. */
export type OptionSpecs = Record<string, OptionSpec>;

/** The values found: strings for string options, true for booleans present. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/** What {@link parseCommandLine} returns. */
export interface ParsedCommandLine<O extends OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
}

/** A command line that does not fit the options; the message says why. */
export class CommandLineError extends Error {
  /** The option as given (`--group`, `-x`) when it is one the command does not know. */
  readonly unknownOption: string | null;

  constructor(message: string, unknownOption: string | null = null) {
    super(message);
    this.name = "CommandLineError";
    this.unknownOption = unknownOption;
  }
}

/** How {@link parseCommandLine} reads long names. */
export interface ParseSettings {
  /** A long name may be shortened to any prefix only it has (argp's and getopt_long's way). */
  abbreviations?: boolean;
}

/**
 * Splits `args` into option values and positionals. Options may come
 * anywhere; after `--` everything is positional. A repeated option keeps
 * its last value.
 *
 * @throws {CommandLineError} For an unknown option, a string option without
 * its value, or a boolean given a value.
 */
export function parseCommandLine<O extends OptionSpecs>(
  args: readonly string[],
  options: O,
  settings: ParseSettings = {},
): ParsedCommandLine<O> {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals < 0 ? undefined : arg.slice(equals + 1);
      if (settings.abbreviations && !Object.hasOwn(options, name)) name = fullName(name, options);
    } else {
      // -hV: each letter a boolean; -x VALUE or -xVALUE for a string.
      const letters = arg.slice(1);
      const first = byShort.get(letters[0]);
      if (first === undefined) throw unknownOption(`-${letters[0]}`);
      if (options[first].type === "string") {
        name = first;
        inline = letters.length > 1 ? letters.slice(1) : undefined;
      } else {
        for (const letter of letters) {
          const long = byShort.get(letter);
          if (long === undefined || options[long].type !== "boolean") {
            throw unknownOption(`-${letter}`);
          }
          values[long] = true;
        }
        continue;
      }
    }
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined) throw unknownOption(arg.split("=")[0]);
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        throw new CommandLineError(`Option '--${name}' does not take an argument`);
      }
      values[name] = true;
      continue;
    }
    if (inline === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new CommandLineError(`Option '--${name} <value>' argument missing`);
      }
      inline = next;
      i++;
    }
    values[name] = inline;
  }
  return { values: values as OptionValues<O>, positionals };
}

/**
 * A flag's value as a shared validator read it.
 *
 * @throws {CommandLineError} `--flag: problem` if it refused the value.
 */
export function flagValue<T>(flag: string, parsed: T | Problem): T {
  if (isProblem(parsed)) throw new CommandLineError(`--${flag}: ${parsed.problem}`);
  return parsed;
}

/** `--instance`'s value. @throws {CommandLineError} If it is no instance name. */
export function instanceFlag(text: string): string {
  return flagValue("instance", parseInstanceName(text, `'${text}'`));
}

/** `--log-level`'s value. @throws {CommandLineError} If it is no log level. */
export function logLevelFlag(text: string): LogLevel {
  return flagValue("log-level", parseLogLevel(text, `'${text}'`));
}

/**
 * Screens a port flag whose names are resolved later, on the machine.
 *
 * @throws {CommandLineError} If it cannot be a port.
 */
export function checkPortFlag(flag: string, text: string, forms: PortForms): void {
  flagValue(flag, parsePort(text, forms, `'${text}'`));
}

/** The one long name `prefix` starts; `prefix` itself if none or several do. */
function fullName(prefix: string, options: OptionSpecs): string {
  const matches = Object.keys(options).filter((name) => prefix !== "" && name.startsWith(prefix));
  return matches.length === 1 ? matches[0] : prefix;
}

function unknownOption(option: string): CommandLineError {
  return new CommandLineError(
    `Unknown option '${option}'. To specify a positional argument starting with a '-', ` +
      `place it at the end of the command after '--', as in '-- "${option}"'`,
    option,
  );
}
