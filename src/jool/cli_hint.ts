/**
 * The `jool` command lines our messages suggest.
 *
 * @module
 */

import { INAME_DEFAULT } from "./protocol.ts";

/** The jool(8) command that turns session sync on in `instance`. */
export function ssEnableCommand(instance: string): string {
  return globalUpdateCommand(instance, "ss-enabled", "true");
}

/** The jool(8) command that sets global `name` (e.g. `ss-capacity`) of `instance` to `value`. */
export function globalUpdateCommand(instance: string, name: string, value: string): string {
  const select = instance === INAME_DEFAULT ? "" : `-i ${shellWord(instance)} `;
  return `jool ${select}global update ${name} ${value}`;
}

/** `word`, quoted for a POSIX shell if it needs it. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.,:+@%=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
