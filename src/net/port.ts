/**
 * Ports as operators write them, on a command line or in a file: the one
 * reading of them, so that every flag and key takes the same forms.
 *
 * @module
 */

import type { Problem } from "../problem.ts";

/** Looks a UDP service name up (/etc/services); null if unknown. */
export type ServiceLookup = (name: string) => number | null;

/** What text may name a port; names are resolved now, or only screened until they can be. */
export type PortForms = "number" | "number or name" | "number or resolved name";

const RANGE = "must be a port number from 1 to 65535";

/**
 * getaddrinfo() would read " 53" and "+53" as numbers, and a control
 * character or a space is no name anybody means.
 */
function isServiceName(text: string): boolean {
  return text !== "" && !/^[+-]/.test(text) && !hasSpaceOrControl(text);
}

/** True if `text` holds white space or a control character: no name an operator means. */
export function hasSpaceOrControl(text: string): boolean {
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || /\s/.test(character)) return true;
  }
  return false;
}

/**
 * Reads a port from `text`: decimal digits from 1 to 65535, or (if `forms`
 * allows) a UDP service name, resolved with `lookup` when given.
 *
 * @param shown `text` as the problem quotes it (e.g. `'x'` on a command line).
 * @returns The port (0 for a name only screened), or the problem as a phrase
 * (`must be …, got 'x'`) for the caller to put after the flag or key.
 */
export function parsePort(
  text: string,
  forms: PortForms,
  shown: string,
  lookup: ServiceLookup | null = null,
): number | Problem {
  if (/^[0-9]+$/.test(text)) {
    const port = Number(text);
    return port >= 1 && port <= 65535 ? port : { problem: `${RANGE}, got ${shown}` };
  }
  if (forms === "number") return { problem: `${RANGE}, got ${shown}` };
  if (!isServiceName(text)) return { problem: `${RANGE} or a service name, got ${shown}` };
  if (forms === "number or name") return 0;
  const port = lookup?.(text) ?? null;
  if (port === null) {
    return { problem: `${RANGE} or a UDP service name from /etc/services, got ${shown}` };
  }
  if (port < 1 || port > 65535) {
    return { problem: `service ${shown} has the unusable port ${port}` };
  }
  return port;
}
