/**
 * The operator's values of the globals the daemon raises, kept in a state
 * file while they are raised, so that they survive a SIGKILL: without it,
 * the next start finds the raised value, takes it for the operator's, and
 * never puts the real one back.
 *
 * One file per Jool instance and network namespace (two daemons may each
 * synchronise an instance called `default`, in two namespaces), under the
 * runtime directory (default {@link DEFAULT_STATE_DIRECTORY}; the systemd
 * units keep it across restarts). Written before a global is raised,
 * atomically (a temporary file renamed over it), and removed once every
 * global is back. The daemon runs without it if the directory is missing
 * or not writable: it says so once, and a SIGKILL then leaves the raised
 * value for the operator to put back.
 *
 * @module
 */

import { replaceFile } from "./atomic_file.ts";

/** Where the state files go unless `--state-directory` says otherwise. */
export const DEFAULT_STATE_DIRECTORY = "/run/joold";

/** A global the daemon changed, as recorded: the operator's value, and what the daemon set. */
export interface TuningStateEntry {
  /** The GLOBALS attribute type. */
  type: number;
  /** The value before the daemon changed it: what goes back at exit. */
  original: number;
  /** What the daemon set it to, raised or lowered. */
  raised: number;
}

/** The state file's content: changed globals by name (e.g. `ss-capacity`). */
export type TuningState = Map<string, TuningStateEntry>;

/** The file's format version; a file of another version is refused. */
const FORMAT_VERSION = 1;

/** A state file that cannot be used; the message names the file and what is wrong. */
export class TuningStateError extends Error {
  constructor(path: string, detail: string) {
    super(`State file ${path} is unusable: ${detail}`);
    this.name = "TuningStateError";
  }
}

/**
 * The state file's name for `instance` in network namespace `netns` (the
 * link text of /proc/self/ns/net, e.g. `net:[4026531840]`, or null if
 * unknown): `default.net-4026531840.json`. The instance name is
 * percent-encoded, so that `/` or `..` in it stay inside the directory.
 */
export function stateFileName(instance: string, netns: string | null): string {
  return `${instanceFileStem(instance, netns)}.json`;
}

/**
 * What names the files of `instance` in network namespace `netns` in the
 * state directory, before their suffix: `default.net-4026531840`.
 */
export function instanceFileStem(instance: string, netns: string | null): string {
  return `${encodeURIComponent(instance)}${namespaceSuffix(netns)}`;
}

/** `.net-4026531840` for `net:[4026531840]`; `.net-unknown` if unknown. */
export function namespaceSuffix(netns: string | null): string {
  return `.net-${netns?.match(/^net:\[(\d+)\]$/)?.[1] ?? "unknown"}`;
}

/** The JSON text of `state` for `instance`. */
export function encodeTuningState(instance: string, state: TuningState): string {
  const globals: Record<string, TuningStateEntry> = {};
  for (const [name, entry] of state) globals[name] = { ...entry };
  return JSON.stringify({ version: FORMAT_VERSION, instance, globals }, null, 2) + "\n";
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/**
 * Reads a state file's text. Throws {@link TuningStateError} naming `path`
 * and what is wrong: not JSON, another version or instance, or an entry
 * without its three numbers.
 */
export function decodeTuningState(text: string, path: string, instance: string): TuningState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TuningStateError(path, `not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TuningStateError(path, "not a JSON object");
  }
  const file = parsed as Record<string, unknown>;
  if (file.version !== FORMAT_VERSION) {
    throw new TuningStateError(path, `"version" is ${JSON.stringify(file.version)}, not 1`);
  }
  if (file.instance !== instance) {
    throw new TuningStateError(
      path,
      `it is for instance ${JSON.stringify(file.instance)}, not '${instance}'`,
    );
  }
  const globals = file.globals;
  if (typeof globals !== "object" || globals === null || Array.isArray(globals)) {
    throw new TuningStateError(path, '"globals" is not an object');
  }
  const state: TuningState = new Map();
  for (const [name, value] of Object.entries(globals)) {
    const entry = value as Partial<TuningStateEntry> | null;
    if (
      typeof entry !== "object" || entry === null || !isCount(entry.type) ||
      !isCount(entry.original) || !isCount(entry.raised)
    ) {
      throw new TuningStateError(path, `"globals"."${name}" needs "type", "original", "raised"`);
    }
    state.set(name, { type: entry.type, original: entry.original, raised: entry.raised });
  }
  return state;
}

/** Where the instance setup keeps its state (a file; tests may use memory). */
export interface TuningStateStore {
  /** For log lines. */
  readonly path: string;
  /** The state, or null if there is none. Throws TuningStateError or a file error. */
  load(): TuningState | null;
  /** Replaces the state, atomically. Throws a file error. */
  save(state: TuningState): void;
  /** Removes the state; none is fine. Throws a file error. */
  remove(): void;
}

/** A {@link TuningStateStore} in `directory`/{@link stateFileName}. */
export class TuningStateFile implements TuningStateStore {
  readonly path: string;
  readonly #instance: string;

  constructor(directory: string, instance: string, netns: string | null) {
    this.path = `${directory}/${stateFileName(instance, netns)}`;
    this.#instance = instance;
  }

  load(): TuningState | null {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (error) {
      // No directory is no file; whether one can be made is save()'s to say.
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return null;
      }
      throw error;
    }
    return decodeTuningState(text, this.path, this.#instance);
  }

  save(state: TuningState): void {
    replaceFile(this.path, encodeTuningState(this.#instance, state), 0o600);
  }

  remove(): void {
    try {
      Deno.removeSync(this.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
