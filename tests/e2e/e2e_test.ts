/**
 * End-to-end tests against the real Jool 4.1.9 kernel module.
 *
 * Each scenario boots a QEMU VM (scripts/vm/run_vm.sh) running Debian's kernel
 * with Jool, builds several NAT64 nodes in network namespaces
 * (tests/e2e/lib/topology.sh), starts session-sync daemons on them (this
 * project's joold, bundled from main.ts, or Jool's C joold), makes TCP, UDP
 * and ICMP traffic through them and dumps every node's session tables into an
 * out directory; the checks here then read that directory.
 *
 * Needs Linux and root; installs the Debian packages on first use
 * (scripts/vm/install_deps.sh). `JOOLD_E2E_SCENARIO=name[,name...]` runs only
 * the named scenarios; `JOOLD_E2E_OUT_DIR` moves the results (default
 * /var/tmp/joold-e2e/NAME); `JOOLD_E2E_OURS=reference` puts the C joold where
 * ours would run, to check the harness itself.
 *
 * @module
 */

import assert from "node:assert/strict";

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const OUT_ROOT = Deno.env.get("JOOLD_E2E_OUT_DIR") ?? "/var/tmp/joold-e2e";
const PROTOCOLS = ["tcp", "udp", "icmp"] as const;
const STATS_NAMES = [
  "KERNEL_SENT_PKTS",
  "KERNEL_SENT_BYTES",
  "NET_RCVD_PKTS",
  "NET_RCVD_BYTES",
  "NET_SENT_PKTS",
  "NET_SENT_BYTES",
] as const;
const MSG_NO_INSTANCE = "This namespace lacks an instance named 'ghost'.";
const MSG_SS_DISABLED = "Session sync is disabled on this instance.";

// ---------------------------------------------------------------------------
// Session tables

/** The fields that identify a Jool session; expiration and TCP state may differ between nodes. */
interface Session {
  protocol: string;
  src6: string;
  src6Port: number;
  src4: string;
  src4Port: number;
  dst4: string;
  dst4Port: number;
}

/** A flow the guest made through a node (a line of traffic.csv). */
interface Flow {
  node: string;
  protocol: string;
  src6: string;
  dst4: string;
  dst4Port: number | undefined;
  ok: boolean;
}

/** Per node: the expected sessions it lacks and the sessions it has that nobody expected. */
interface NodeDiff {
  node: string;
  expected: Session[];
  actual: Session[];
  missing: Session[];
  unexpected: Session[];
}

function parsePort(text: string, line: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new Error(`Malformed port in session line: ${line}`);
  }
  return port;
}

/** Parses `jool session display --numeric --csv` output (header optional). */
function parseSessionCsv(text: string): Session[] {
  const sessions: Session[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("Protocol,")) continue;
    const f = line.split(",");
    // Protocol, IPv6 remote addr/port, IPv6 local addr/port, IPv4 local
    // addr/port, IPv4 remote addr/port, expiration [, TCP state]
    if (f.length < 10 || f.length > 11) {
      throw new Error(`Malformed session line: ${line}`);
    }
    sessions.push({
      protocol: f[0],
      src6: f[1],
      src6Port: parsePort(f[2], line),
      src4: f[5],
      src4Port: parsePort(f[6], line),
      dst4: f[7],
      dst4Port: parsePort(f[8], line),
    });
  }
  return sessions;
}

function sessionKey(s: Session): string {
  return [s.protocol, s.src6, s.src6Port, s.src4, s.src4Port, s.dst4, s.dst4Port].join(",");
}

function formatSession(s: Session): string {
  return [
    s.protocol.padEnd(4),
    `${s.src6}#${s.src6Port}`.padEnd(28),
    `${s.src4}#${s.src4Port}`.padEnd(21),
    `${s.dst4}#${s.dst4Port}`,
  ].join("  ");
}

function sortSessions(sessions: Session[]): Session[] {
  return [...sessions].sort((a, b) => sessionKey(a).localeCompare(sessionKey(b)));
}

/** Parses traffic.csv: `node,protocol,src6,dst4,dst4port,ok|failed`. */
function parseTraffic(text: string): Flow[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const f = line.split(",");
    if (f.length !== 6) throw new Error(`Malformed traffic line: ${line}`);
    return {
      node: f[0],
      protocol: f[1],
      src6: f[2],
      dst4: f[3],
      dst4Port: f[4] === "" ? undefined : parsePort(f[4], line),
      ok: f[5] === "ok",
    };
  });
}

function describeFlow(flow: Flow): string {
  const port = flow.dst4Port === undefined ? "" : `#${flow.dst4Port}`;
  return `${flow.protocol} flow from ${flow.src6} to ${flow.dst4}${port} through ${flow.node}`;
}

/**
 * What every node must hold: the sessions each flow created on the node it
 * went through. Also returns problems with the traffic itself (a flow that
 * failed, or left no session where it went through), without which a sync
 * check could pass on empty tables.
 */
function expectedSessions(
  tables: Map<string, Session[]>,
  flows: Flow[],
): { expected: Session[]; problems: string[] } {
  const problems: string[] = [];
  const expected = new Map<string, Session>();
  for (const flow of flows) {
    if (!flow.ok) {
      problems.push(`The ${describeFlow(flow)} failed.`);
      continue;
    }
    const created = (tables.get(flow.node) ?? []).filter((s) =>
      s.protocol === flow.protocol && s.src6 === flow.src6 && s.dst4 === flow.dst4 &&
      (flow.dst4Port === undefined || s.dst4Port === flow.dst4Port)
    );
    if (created.length === 0) {
      problems.push(`The ${describeFlow(flow)} left no session on ${flow.node}.`);
    }
    for (const s of created) expected.set(sessionKey(s), s);
  }
  return { expected: sortSessions([...expected.values()]), problems };
}

/** Compares every node's sessions with the expected ones. */
function diffSessions(tables: Map<string, Session[]>, expected: Session[]): NodeDiff[] {
  const expectedKeys = new Set(expected.map(sessionKey));
  return [...tables.entries()].map(([node, actual]) => {
    const actualKeys = new Set(actual.map(sessionKey));
    return {
      node,
      expected,
      actual: sortSessions(actual),
      missing: expected.filter((s) => !actualKeys.has(sessionKey(s))),
      unexpected: sortSessions(actual.filter((s) => !expectedKeys.has(sessionKey(s)))),
    };
  });
}

function inSync(diffs: NodeDiff[]): boolean {
  return diffs.every((d) => d.missing.length === 0 && d.unexpected.length === 0);
}

/**
 * A readable diff: one summary line per node, and for each node that differs
 * its expected and actual sessions merged, `-` marking an expected session it
 * lacks and `+` one it has that no flow created.
 */
function formatDiff(diffs: NodeDiff[]): string {
  const lines = [
    "Session tables (protocol, IPv6 source, IPv4 source, IPv4 destination) per node;",
    "'-' expected but missing, '+' present but not expected:",
  ];
  for (const d of diffs) {
    const problems = [];
    if (d.missing.length > 0) problems.push(`${d.missing.length} missing`);
    if (d.unexpected.length > 0) problems.push(`${d.unexpected.length} unexpected`);
    lines.push(
      `${d.node}: ${d.expected.length} expected, ${d.actual.length} present` +
        (problems.length > 0 ? `, ${problems.join(", ")}` : ", in sync"),
    );
    if (problems.length === 0) continue;
    const missing = new Set(d.missing.map(sessionKey));
    const unexpected = new Set(d.unexpected.map(sessionKey));
    for (const s of sortSessions([...d.expected, ...d.unexpected])) {
      const key = sessionKey(s);
      const mark = missing.has(key) ? "-" : unexpected.has(key) ? "+" : " ";
      lines.push(`  ${mark} ${formatSession(s)}`);
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Stats answers

/** Parses a stats answer; throws unless it is exactly the six reference lines. */
function parseStats(text: string): Map<string, number> {
  const lines = text.replace(/\n$/, "").split("\n");
  const names = lines.map((line) => line.split(",")[0]);
  assert.deepEqual(names, [...STATS_NAMES], `Stats answer has the wrong lines: ${text}`);
  const stats = new Map<string, number>();
  for (const line of lines) {
    const match = /^([A-Z_]+),(\d+)$/.exec(line);
    assert.ok(match, `Malformed stats line: ${line}`);
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Running scenarios

/** What a scenario left behind. */
interface Outcome {
  name: string;
  out: string;
  nodes: string[];
}

interface Scenario {
  name: string;
  /** Whether the scenario starts this project's daemon (which must be bundled first). */
  ours: boolean;
  nodes: number;
  check: (outcome: Outcome) => Promise<void>;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await readText(path)) !== undefined;
}

async function loadTables(outcome: Outcome): Promise<Map<string, Session[]>> {
  const tables = new Map<string, Session[]>();
  for (const node of outcome.nodes) {
    const sessions: Session[] = [];
    for (const protocol of PROTOCOLS) {
      const path = `${outcome.out}/sessions/${node}.${protocol}.csv`;
      const text = await readText(path);
      if (text === undefined) throw new Error(`No session dump: ${path}`);
      sessions.push(...parseSessionCsv(text));
    }
    tables.set(node, sessions);
  }
  return tables;
}

/** Checks the traffic worked and every node ended up with every session. */
async function syncReport(outcome: Outcome): Promise<{ problems: string[]; diffs: NodeDiff[] }> {
  const tables = await loadTables(outcome);
  const flows = parseTraffic((await readText(`${outcome.out}/traffic.csv`)) ?? "");
  const { expected, problems } = expectedSessions(tables, flows);
  if (flows.length === 0) problems.push("The scenario made no traffic.");
  return { problems, diffs: diffSessions(tables, expected) };
}

async function checkSync(outcome: Outcome): Promise<void> {
  const { problems, diffs } = await syncReport(outcome);
  assert.deepEqual(
    problems,
    [],
    `The traffic did not create the sessions:\n${problems.join("\n")}`,
  );
  assert.ok(inSync(diffs), `Sessions did not reach every node.\n${formatDiff(diffs)}`);
}

async function checkNegativeControl(outcome: Outcome): Promise<void> {
  const { problems, diffs } = await syncReport(outcome);
  assert.deepEqual(
    problems,
    [],
    `The traffic did not create the sessions:\n${problems.join("\n")}`,
  );
  const report = formatDiff(diffs);
  console.log(`What a broken sync looks like:\n${report}`);
  assert.ok(!inSync(diffs), `j2 ran no daemon yet the comparison saw no difference:\n${report}`);
  const tables = await loadTables(outcome);
  const fromJ1 = (tables.get("j1") ?? []).filter((s) => s.src6 === "2001:db8:1::2");
  const j2 = diffs.find((d) => d.node === "j2");
  assert.ok(fromJ1.length >= 4, `j1 should have created 4 sessions:\n${report}`);
  assert.deepEqual(
    j2?.missing.map(sessionKey),
    sortSessions(fromJ1).map(sessionKey),
    `The comparison should report exactly j1's sessions missing on j2:\n${report}`,
  );
  assert.match(report, /^j2: 8 expected, 4 present, 4 missing$/m);
  for (const s of fromJ1) assert.ok(report.includes(`- ${formatSession(s)}`), report);
}

async function checkStats(outcome: Outcome): Promise<void> {
  await checkSync(outcome);
  const answers = new Map<string, Map<string, number>>();
  for (const node of ["j1", "j2"]) {
    const texts = [];
    for (const family of ["ipv4", "ipv6"]) {
      const path = `${outcome.out}/stats/${node}.${family}.txt`;
      const text = (await readText(path)) ?? "";
      assert.notEqual(text, "", `No stats answer from ${node} over ${family}: ${path}`);
      texts.push(text);
      answers.set(node, parseStats(text));
    }
    assert.equal(texts[0], texts[1], `${node} answered differently over IPv4 and IPv6`);
  }
  const j1 = answers.get("j1")!;
  const j2 = answers.get("j2")!;
  const summary = `j1: ${JSON.stringify([...j1])}\nj2: ${JSON.stringify([...j2])}`;
  assert.ok(j1.get("KERNEL_SENT_PKTS")! > 0, `j1 took no batch from its kernel:\n${summary}`);
  assert.ok(j1.get("NET_SENT_PKTS")! > 0, `j1 sent nothing to the network:\n${summary}`);
  assert.equal(j1.get("KERNEL_SENT_PKTS"), j2.get("NET_RCVD_PKTS"), summary);
  assert.equal(j1.get("NET_SENT_PKTS"), j2.get("NET_RCVD_PKTS"), summary);
  assert.equal(j1.get("NET_SENT_BYTES"), j2.get("NET_RCVD_BYTES"), summary);
}

async function daemonRecord(outcome: Outcome, node: string) {
  const base = `${outcome.out}/daemons/${node}`;
  return {
    stderr: (await readText(`${base}.stderr`)) ?? "",
    exit: (await readText(`${base}.exit`))?.trim(),
    /** True if the daemon was still running when the scenario ended (and was signalled). */
    stopped: await exists(`${base}.stopped`),
  };
}

async function checkMissingInstance(outcome: Outcome): Promise<void> {
  const tool = (await readText(`${outcome.out}/errors/tool.stderr`)) ?? "";
  assert.ok(tool.includes(MSG_NO_INSTANCE), `Jool's tool got another message: ${tool}`);
  const ours = await daemonRecord(outcome, "j1");
  assert.ok(!ours.stopped, `joold kept running with a missing instance; stderr:\n${ours.stderr}`);
  assert.notEqual(
    ours.exit,
    "0",
    `joold exited 0 with a missing instance; stderr:\n${ours.stderr}`,
  );
  assert.ok(
    ours.stderr.includes(MSG_NO_INSTANCE),
    `joold's stderr lacks the kernel's message "${MSG_NO_INSTANCE}":\n${ours.stderr}`,
  );
}

async function checkSyncDisabled(outcome: Outcome): Promise<void> {
  const kernelLog = (await readText(`${outcome.out}/errors/tool.dmesg`)) ?? "";
  assert.ok(kernelLog.includes(MSG_SS_DISABLED), `The kernel said something else: ${kernelLog}`);
  const ours = await daemonRecord(outcome, "j1");
  assert.ok(
    ours.stopped,
    `joold ended (status ${ours.exit}) when the kernel refused its sessions; stderr:\n${ours.stderr}`,
  );
  assert.ok(
    ours.stderr.includes(MSG_SS_DISABLED),
    `joold's stderr lacks the kernel's message "${MSG_SS_DISABLED}":\n${ours.stderr}`,
  );
}

const SCENARIOS: Scenario[] = [
  // Harness checks: Jool's C joold everywhere.
  { name: "ref-ipv6", ours: false, nodes: 2, check: checkSync },
  { name: "ref-ipv4", ours: false, nodes: 2, check: checkSync },
  { name: "ref-three", ours: false, nodes: 3, check: checkSync },
  // This project's joold.
  { name: "ours-ipv6", ours: true, nodes: 2, check: checkSync },
  { name: "ours-ipv4", ours: true, nodes: 2, check: checkSync },
  { name: "interop6-ours-ref", ours: true, nodes: 2, check: checkSync },
  { name: "interop6-ref-ours", ours: true, nodes: 2, check: checkSync },
  { name: "interop4-ours-ref", ours: true, nodes: 2, check: checkSync },
  { name: "interop4-ref-ours", ours: true, nodes: 2, check: checkSync },
  { name: "ours-three", ours: true, nodes: 3, check: checkSync },
  { name: "ours-stats", ours: true, nodes: 2, check: checkStats },
  { name: "error-instance", ours: true, nodes: 2, check: checkMissingInstance },
  { name: "error-ss-disabled", ours: true, nodes: 2, check: checkSyncDisabled },
  { name: "control-no-daemon", ours: true, nodes: 2, check: checkNegativeControl },
];

function onPath(command: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${command}`).isFile;
    } catch {
      return false;
    }
  });
}

/** Why this machine cannot run the scenarios, if it cannot. */
function environmentProblem(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root (it boots a VM and may install packages)";
  if (!onPath("qemu-system-x86_64") && !onPath("apt-get")) {
    return "needs qemu-system-x86_64, or apt-get to install it";
  }
  return undefined;
}

async function run(command: string, args: string[], options: { cwd?: string } = {}) {
  const result = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

async function runOrThrow(what: string, command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${what} failed (status ${result.code}):\n${result.stderr}${result.stdout}`);
  }
}

/** Newest modification time under the given files and directories. */
async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue;
    }
    if (info.isDirectory) {
      const children = [];
      for await (const entry of Deno.readDir(path)) children.push(`${path}/${entry.name}`);
      newest = Math.max(newest, await newestMtime(children));
    } else {
      newest = Math.max(newest, info.mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/** Bundles main.ts into dist/joold.js unless the bundle is newer than every source. */
async function ensureBundle(): Promise<void> {
  const main = `${REPO}/main.ts`;
  try {
    await Deno.stat(main);
  } catch {
    throw new Error(`Cannot bundle the daemon: ${main} does not exist`);
  }
  const bundle = `${REPO}/dist/joold.js`;
  const sources = ["main.ts", "src", "ffi", "deno.json", "deno.lock"].map((p) => `${REPO}/${p}`);
  if ((await newestMtime([bundle])) > (await newestMtime(sources))) return;
  await runOrThrow("deno bundle", "bash", [
    `${REPO}/scripts/deno.sh`,
    "bundle",
    "--platform=deno",
    "-o",
    bundle,
    main,
  ]);
}

/** Installs what is missing, builds the VM (cached) and, if needed, the bundle; all idempotent. */
async function prepare(scenario: Scenario, oursIsReference: boolean): Promise<void> {
  await runOrThrow("scripts/vm/install_deps.sh", "bash", [`${REPO}/scripts/vm/install_deps.sh`]);
  await runOrThrow("scripts/vm/build_initrd.sh", "bash", [`${REPO}/scripts/vm/build_initrd.sh`]);
  if (scenario.ours && !oursIsReference) await ensureBundle();
}

async function tail(path: string, lines: number): Promise<string> {
  const text = (await readText(path)) ?? "(missing)";
  return text.split("\n").slice(-lines).join("\n");
}

/** Everything worth reading when a scenario fails. */
async function diagnostics(outcome: Outcome): Promise<string> {
  const parts = [`Results: ${outcome.out}`];
  for (const node of outcome.nodes) {
    const base = `${outcome.out}/daemons/${node}`;
    const cmd = await readText(`${base}.cmd`);
    if (cmd === undefined) continue;
    const exit = (await readText(`${base}.exit`))?.trim() ?? "none: still running";
    const how = (await exists(`${base}.stopped`)) ? ", after the harness stopped it" : "";
    parts.push(`--- ${node}: ${cmd.trim()} (exit status ${exit}${how})`);
    parts.push(`stderr (last 20 lines):\n${await tail(`${base}.stderr`, 20)}`);
  }
  parts.push(
    `--- guest console (last 15 lines):\n${await tail(`${outcome.out}/vm/console.log`, 15)}`,
  );
  return parts.join("\n");
}

async function runScenario(scenario: Scenario): Promise<void> {
  const oursIsReference = Deno.env.get("JOOLD_E2E_OURS") === "reference";
  await prepare(scenario, oursIsReference);
  const out = `${OUT_ROOT}/${scenario.name}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const passed = Object.entries(Deno.env.toObject())
    .filter(([name]) => name.startsWith("JOOLD_E2E_"))
    .map(([name, value]) => `${name}=${value}`);
  const script = `tests/e2e/scenarios/${scenario.name.replaceAll("-", "_")}.sh`;
  const vm = await run("bash", [
    `${REPO}/scripts/vm/run_vm.sh`,
    out,
    "env",
    ...passed,
    "bash",
    `${REPO}/${script}`,
  ]);
  const nodes = Array.from({ length: scenario.nodes }, (_, i) => `j${i + 1}`);
  const outcome: Outcome = { name: scenario.name, out, nodes };
  try {
    if (vm.code !== 0) {
      // The guest says why on its console (e2e_die), run_vm.sh on its stderr.
      const consoleLog = (await readText(`${out}/vm/console.log`)) ?? "";
      const why = consoleLog.split("\n").filter((line) => /^(e2e: |daemon in )/.test(line));
      assert.fail(
        `${script} failed in the VM (status ${vm.code}): ${[...why, vm.stderr.trim()].join("\n")}`,
      );
    }
    const listed = ((await readText(`${out}/nodes.txt`)) ?? "").trim().split("\n");
    assert.deepEqual(listed, nodes, "The guest built other nodes than expected");
    await scenario.check(outcome);
  } catch (error) {
    console.error(await diagnostics(outcome));
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Registration

const skipReason = environmentProblem();
if (skipReason !== undefined) console.log(`e2e scenarios ignored: ${skipReason}`);
const only = (Deno.env.get("JOOLD_E2E_SCENARIO") ?? "").split(",").map((name) =>
  name.trim().replaceAll("_", "-")
).filter((name) => name !== "");
const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  throw new Error(
    `Unknown JOOLD_E2E_SCENARIO: ${unknown.join(", ")} (known: ${
      SCENARIOS.map((s) => s.name).join(", ")
    })`,
  );
}

for (const scenario of SCENARIOS) {
  Deno.test({
    name: scenario.name,
    ignore: skipReason !== undefined || (only.length > 0 && !only.includes(scenario.name)),
    fn: () => runScenario(scenario),
  });
}

// ---------------------------------------------------------------------------
// The checks themselves, without a VM: a comparison that cannot fail proves nothing.

const HEADER = "Protocol,IPv6 Remote Address,IPv6 Remote L4-ID,IPv6 Local Address," +
  "IPv6 Local L4-ID,IPv4 Local Address,IPv4 Local L4-ID,IPv4 Remote Address,IPv4 Remote L4-ID," +
  "Expires in,State";
const TCP_J1 = "TCP,2001:db8:1::2,59674,64:ff9b::c000:202,8080,192.0.2.1,61859,192.0.2.2,8080," +
  "0:03:54.136,V4_FIN_V6_FIN_RCV";
const UDP_J1 = "UDP,2001:db8:1::2,37623,64:ff9b::c000:202,7777,192.0.2.1,63631,192.0.2.2,7777," +
  "0:04:54.684";
const ICMP_J2 = "ICMP,2001:db8:2::2,253,64:ff9b::c000:202,253,192.0.2.1,64007,192.0.2.2,64007," +
  "0:00:58.124";
const FLOWS = [
  "j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok",
  "j1,UDP,2001:db8:1::2,192.0.2.2,7777,ok",
  "j2,ICMP,2001:db8:2::2,192.0.2.2,,ok",
].join("\n");

Deno.test("e2e checks: session CSV parsing", () => {
  const cases: { name: string; csv: string; want: Session[] | RegExp }[] = [
    { name: "header only", csv: `${HEADER}\n`, want: [] },
    {
      name: "TCP with state, UDP without",
      csv: `${HEADER}\n${TCP_J1}\n${UDP_J1}\n`,
      want: [
        {
          protocol: "TCP",
          src6: "2001:db8:1::2",
          src6Port: 59674,
          src4: "192.0.2.1",
          src4Port: 61859,
          dst4: "192.0.2.2",
          dst4Port: 8080,
        },
        {
          protocol: "UDP",
          src6: "2001:db8:1::2",
          src6Port: 37623,
          src4: "192.0.2.1",
          src4Port: 63631,
          dst4: "192.0.2.2",
          dst4Port: 7777,
        },
      ],
    },
    { name: "too few columns", csv: "UDP,2001:db8:1::2,1\n", want: /Malformed session line/ },
    { name: "port not a number", csv: TCP_J1.replace("59674", "x"), want: /Malformed port/ },
  ];
  for (const c of cases) {
    if (c.want instanceof RegExp) {
      assert.throws(() => parseSessionCsv(c.csv), c.want, c.name);
    } else {
      assert.deepEqual(parseSessionCsv(c.csv), c.want, c.name);
    }
  }
});

Deno.test("e2e checks: in sync when every node has every flow's session", () => {
  const all = parseSessionCsv([TCP_J1, UDP_J1, ICMP_J2].join("\n"));
  const tables = new Map([["j1", all], ["j2", [...all].reverse()]]);
  const { expected, problems } = expectedSessions(tables, parseTraffic(FLOWS));
  assert.deepEqual(problems, []);
  assert.equal(expected.length, 3);
  const diffs = diffSessions(tables, expected);
  assert.ok(inSync(diffs));
  assert.match(formatDiff(diffs), /^j2: 3 expected, 3 present, in sync$/m);
});

Deno.test("e2e checks: a missing session fails with a readable diff", () => {
  const tables = new Map([
    ["j1", parseSessionCsv([TCP_J1, UDP_J1].join("\n"))],
    ["j2", parseSessionCsv([TCP_J1, ICMP_J2].join("\n"))],
  ]);
  const { expected, problems } = expectedSessions(tables, parseTraffic(FLOWS));
  assert.deepEqual(problems, []);
  const diffs = diffSessions(tables, expected);
  assert.ok(!inSync(diffs));
  assert.equal(
    formatDiff(diffs),
    [
      "Session tables (protocol, IPv6 source, IPv4 source, IPv4 destination) per node;",
      "'-' expected but missing, '+' present but not expected:",
      "j1: 3 expected, 2 present, 1 missing",
      "  - ICMP  2001:db8:2::2#253             192.0.2.1#64007        192.0.2.2#64007",
      "    TCP   2001:db8:1::2#59674           192.0.2.1#61859        192.0.2.2#8080",
      "    UDP   2001:db8:1::2#37623           192.0.2.1#63631        192.0.2.2#7777",
      "j2: 3 expected, 2 present, 1 missing",
      "    ICMP  2001:db8:2::2#253             192.0.2.1#64007        192.0.2.2#64007",
      "    TCP   2001:db8:1::2#59674           192.0.2.1#61859        192.0.2.2#8080",
      "  - UDP   2001:db8:1::2#37623           192.0.2.1#63631        192.0.2.2#7777",
    ].join("\n"),
  );
});

Deno.test("e2e checks: a session nobody created is reported", () => {
  const forged = UDP_J1.replace("63631", "63632");
  const tables = new Map([
    ["j1", parseSessionCsv([TCP_J1, UDP_J1].join("\n"))],
    ["j2", parseSessionCsv([TCP_J1, UDP_J1, forged].join("\n"))],
  ]);
  const flows = parseTraffic(FLOWS.split("\n").slice(0, 2).join("\n"));
  const diffs = diffSessions(tables, expectedSessions(tables, flows).expected);
  assert.ok(!inSync(diffs));
  assert.match(formatDiff(diffs), /^j2: 2 expected, 3 present, 1 unexpected$/m);
  assert.match(formatDiff(diffs), /^ {2}\+ UDP {3}2001:db8:1::2#37623 .*#63632/m);
});

Deno.test("e2e checks: traffic that failed or left no session is a problem", () => {
  const tables = new Map([["j1", parseSessionCsv(TCP_J1)], ["j2", parseSessionCsv(TCP_J1)]]);
  const flows = parseTraffic(
    ["j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok", "j1,UDP,2001:db8:1::2,192.0.2.2,7777,failed"]
      .concat("j1,ICMP,2001:db8:1::2,192.0.2.2,,ok").join("\n"),
  );
  assert.deepEqual(expectedSessions(tables, flows).problems, [
    "The UDP flow from 2001:db8:1::2 to 192.0.2.2#7777 through j1 failed.",
    "The ICMP flow from 2001:db8:1::2 to 192.0.2.2 through j1 left no session on j1.",
  ]);
});

Deno.test("e2e checks: stats answers", () => {
  const good = STATS_NAMES.map((name, i) => `${name},${i}`).join("\n") + "\n";
  assert.deepEqual([...parseStats(good).values()], [0, 1, 2, 3, 4, 5]);
  const cases: { name: string; text: string }[] = [
    { name: "empty", text: "" },
    { name: "wrong order", text: good.replace("NET_RCVD_PKTS", "NET_SENT_PKTS") },
    { name: "missing line", text: good.split("\n").slice(1).join("\n") },
    { name: "not a number", text: good.replace("KERNEL_SENT_PKTS,0", "KERNEL_SENT_PKTS,x") },
  ];
  for (const c of cases) assert.throws(() => parseStats(c.text), assert.AssertionError, c.name);
});
