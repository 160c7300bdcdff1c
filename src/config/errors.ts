/**
 * The one error type of the configuration loader.
 *
 * @module
 */

/** Where in a file a syntax error sits; both numbers count from 1. */
export interface FilePosition {
  line: number;
  column: number;
}

/**
 * A configuration file the daemon cannot use. Its message is one line meant
 * for the user, in one of these shapes:
 *
 * - `net.json: "ttl": must be an integer from 0 to 255, got 300`
 * - `net.json: the top level must be a JSON object`
 * - `net.json:3:14: syntax error: value expected`
 */
export class ConfigError extends Error {
  /** The path of the file, exactly as the user gave it. */
  readonly file: string;
  /** The offending key as spelled in the file, or null if no key is to blame. */
  readonly key: string | null;
  /** What is wrong, without the file and key, e.g. `is required`. */
  readonly problem: string;
  /** Line of a syntax error (1-based), else null. */
  readonly line: number | null;
  /** Column of a syntax error (1-based, in characters), else null. */
  readonly column: number | null;

  constructor(file: string, key: string | null, problem: string, position?: FilePosition) {
    const where = position === undefined ? file : `${file}:${position.line}:${position.column}`;
    super(key === null ? `${where}: ${problem}` : `${where}: ${JSON.stringify(key)}: ${problem}`);
    this.name = "ConfigError";
    this.file = file;
    this.key = key;
    this.problem = problem;
    this.line = position?.line ?? null;
    this.column = position?.column ?? null;
  }
}
