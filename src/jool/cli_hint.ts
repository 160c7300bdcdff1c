/**
 * The `jool` command lines our messages suggest.
 *
 * @module
 */

import { INAME_DEFAULT } from "./protocol.ts";

/** The jool(8) command that turns session sync on in `instance`. */
export function ssEnableCommand(instance: string): string {
  const select = instance === INAME_DEFAULT ? "" : `-i ${shellWord(instance)} `;
  return `jool ${select}global update ss-enabled true`;
}

/** `word`, quoted for a POSIX shell if it needs it. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.,:+@%=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
