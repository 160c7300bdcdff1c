import assert from "node:assert/strict";
import { CommandLineError, parseCommandLine } from "./command_line.ts";

const OPTIONS = {
  "log-level": { type: "string" },
  syslog: { type: "boolean" },
  "metrics-port": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

Deno.test("parseCommandLine(): options anywhere, both value forms, short flags, --", () => {
  const cases: {
    args: string[];
    values: Record<string, string | boolean>;
    positionals: string[];
  }[] = [
    { args: [], values: {}, positionals: [] },
    {
      args: ["net.json", "mod.json", "45678"],
      values: {},
      positionals: ["net.json", "mod.json", "45678"],
    },
    {
      args: ["--log-level", "debug", "net.json", "--syslog"],
      values: { "log-level": "debug", syslog: true },
      positionals: ["net.json"],
    },
    { args: ["--metrics-port=9464"], values: { "metrics-port": "9464" }, positionals: [] },
    { args: ["--log-level="], values: { "log-level": "" }, positionals: [] },
    { args: ["-h"], values: { help: true }, positionals: [] },
    { args: ["-hV"], values: { help: true, version: true }, positionals: [] },
    { args: ["-", "--", "--syslog", "-h"], values: {}, positionals: ["-", "--syslog", "-h"] },
    {
      args: ["--log-level", "info", "--log-level", "error"],
      values: { "log-level": "error" },
      positionals: [],
    },
  ];
  for (const c of cases) {
    const parsed = parseCommandLine(c.args, OPTIONS);
    assert.deepEqual({ ...parsed.values }, c.values, c.args.join(" "));
    assert.deepEqual(parsed.positionals, c.positionals, c.args.join(" "));
  }
});

Deno.test("parseCommandLine(): the errors name the option, as Node's parseArgs does", () => {
  const cases: [string[], RegExp][] = [
    [["--frobnicate"], /^Unknown option '--frobnicate'\. To specify a positional argument/],
    [["--frobnicate=1"], /^Unknown option '--frobnicate'\./],
    [["-x"], /^Unknown option '-x'\./],
    [["-hx"], /^Unknown option '-x'\./],
    [["--log-level"], /^Option '--log-level <value>' argument missing$/],
    [["--log-level", "--syslog"], /^Option '--log-level <value>' argument missing$/],
    [["--syslog=yes"], /^Option '--syslog' does not take an argument$/],
    [["--toString"], /^Unknown option '--toString'\./],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseCommandLine(args, OPTIONS),
      (error: unknown) => error instanceof CommandLineError && message.test(error.message),
      args.join(" "),
    );
  }
});
