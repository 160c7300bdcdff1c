/**
 * How joold runs, in one place: the permissions and V8 flags that
 * `deno compile` embeds in the executable (scripts/compile.ts), and how the
 * code it embeds is bundled. Everything
 * else that starts the daemon or its commands takes them from here: the
 * end-to-end harness, the benchmark, the demo, the host integration tests;
 * `deno task start`, `deno task bench` and the README's run line are checked
 * against them (tests/integration/compile_test.ts).
 *
 * Run as a program, it prints them on one line, for shell scripts:
 * `deno run --no-config scripts/runtime_flags.ts`.
 *
 * @module
 */

/**
 * Permissions baked into the executable: FFI (libc: every socket, and the
 * /sys and /proc files Deno refuses to `--allow-read`, see
 * ffi/system_files.ts), reading its configuration files, writing under
 * /run/joold only (the state file that keeps the operator's values of the
 * globals joold raises, so that they are put back even after a SIGKILL,
 * src/daemon/tuning_state.ts; the status file of `joold status`), and
 * reading the three variables of systemd's notification protocol, no other
 * (src/daemon/service_notify.ts).
 */
export const RUNTIME_PERMISSIONS = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write=/run/joold",
  "--allow-env=NOTIFY_SOCKET,WATCHDOG_USEC,WATCHDOG_PID",
] as const;

/**
 * V8 flags baked into the executable (the numbers: the "Memory" section of
 * `git show 1d50ad4:BENCHMARKS.md`).
 *
 * `--no-memory-reducer`: V8's memory reducer runs full collections when the
 * allocation rate drops, to shrink the heap of idle programs; joold's heap
 * is a few MiB, and in the benchmark's emulated VM such a collection paused
 * the daemon for 70-80 ms, longer than Jool 4.1.9's session queue lasts at
 * 6,700 sessions/s (97 of 100,000 sessions lost; none without it).
 *
 * `--max-opt=2`: stop at V8's mid-tier compiler (Maglev), never run the
 * optimizing one (TurboFan). joold's time goes to system calls, not to
 * JavaScript: without TurboFan its CPU per session was the same within the
 * noise, its RSS 2-3 MiB lower, and flat (+0.9% from 10k to 100k sessions
 * relayed, against +5.8% when TurboFan's code was paged in at its first use,
 * tens of thousands of sessions into a run).
 */
export const RUNTIME_V8_FLAGS = ["--v8-flags=--no-memory-reducer,--max-opt=2"] as const;

/**
 * The `deno` arguments that bundle `main` into `output`: one JavaScript
 * file, the npm package inlined, what the executable embeds
 * (scripts/compile.ts) and what the tests and benchmarks run.
 */
export function bundleArgs(output: string, main = "main.ts"): string[] {
  return ["bundle", "--platform=deno", "-o", output, main];
}

/** Every flag `deno run` needs to run joold as the executable does. */
export const RUNTIME_FLAGS: readonly string[] = [...RUNTIME_PERMISSIONS, ...RUNTIME_V8_FLAGS];

if (import.meta.main) console.log(RUNTIME_FLAGS.join(" "));
