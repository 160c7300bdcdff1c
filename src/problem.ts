/**
 * What the shared validators (ports, log levels, instance names) return
 * for a refused value, so that each caller names its own flag or key.
 *
 * @module
 */

/** Why a value was refused: a phrase such as `must be …, got 'x'`. */
export interface Problem {
  readonly problem: string;
}

/** True if `value` is a {@link Problem} rather than a parsed value. */
export function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "problem" in value;
}
