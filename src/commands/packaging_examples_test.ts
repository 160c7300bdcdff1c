/**
 * The files under packaging/ are what operators copy: the example configs
 * must load with the daemon's own loaders, and the units must run what
 * the man page describes.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadModsocketConfig, MODSOCKET_KEYS } from "../config/modsocket.ts";
import { loadNetsocketConfig, NETSOCKET_KEYS } from "../config/netsocket.ts";
import { fakeEnvironment } from "../../tests/support/fake_environment.ts";
import { parseStatusArguments } from "./status.ts";
import { DAEMON_ACCOUNT } from "./system.ts";
import { EXAMPLES_PORT } from "./follow_run.ts";

function packaged(path: string): string {
  return fileURLToPath(new URL(`../../packaging/${path}`, import.meta.url));
}

Deno.test("packaging: the example netsocket files load, with no warnings", async () => {
  const env = fakeEnvironment();
  const ipv6 = await loadNetsocketConfig(packaged("examples/ipv6-netsocket.json"), env);
  assert.deepEqual(ipv6.warnings, []);
  assert.equal(ipv6.config.family, "ipv6");
  assert.equal(ipv6.config.address, "ff08::db8:64:64");
  assert.equal(ipv6.config.port, 6464);
  assert.deepEqual(ipv6.config.inInterface, { kind: "name", text: "eth0", index: 2 });
  assert.deepEqual(ipv6.config.outInterface, { kind: "name", text: "eth0", index: 2 });
  assert.equal(ipv6.config.ttl, 3);
  assert.equal(ipv6.config.controlPort, 6465);

  const ipv4 = await loadNetsocketConfig(packaged("examples/ipv4-netsocket.json"), env);
  assert.deepEqual(ipv4.warnings, []);
  assert.equal(ipv4.config.family, "ipv4");
  assert.equal(ipv4.config.address, "233.252.0.64");
  const eth0 = {
    kind: "address",
    text: "192.0.2.1",
    address: new Uint8Array([192, 0, 2, 1]),
    name: "eth0",
  };
  assert.deepEqual(ipv4.config.inInterface, eth0);
  assert.deepEqual(ipv4.config.outInterface, eth0);
  assert.equal(ipv4.config.ttl, 3);
  assert.equal(ipv4.config.controlPort, 6465);
  // What follow's hint names, when it hears nothing on its default port.
  for (const { config } of [ipv6, ipv4]) assert.equal(String(config.port), EXAMPLES_PORT);
});

Deno.test("packaging: the example modsocket file loads, with no warnings", async () => {
  const { config, warnings } = await loadModsocketConfig(packaged("examples/modsocket.json"));
  assert.deepEqual(warnings, []);
  assert.equal(config.instance, "default");
  assert.equal(config.enableSs, true);
});

Deno.test("packaging: the units run the installed joold on /etc/joold", async () => {
  const single = await Deno.readTextFile(packaged("joold.service"));
  assert.match(
    single,
    /^ExecStart=\/usr\/local\/bin\/joold \/etc\/joold\/netsocket\.json \/etc\/joold\/modsocket\.json$/m,
  );
  const template = await Deno.readTextFile(packaged("joold@.service"));
  assert.match(
    template,
    /^ExecStart=\/usr\/local\/bin\/joold --state-directory \/run\/joold\/%i \/etc\/joold\/%i\/netsocket\.json \/etc\/joold\/%i\/modsocket\.json$/m,
  );
  // The state file's directory: the one the executable may write (scripts/runtime_flags.ts).
  assert.match(single, /^RuntimeDirectory=joold$/m);
  assert.match(template, /^RuntimeDirectory=joold\/%i$/m);
  for (const unit of [single, template]) {
    assert.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN$/m);
    assert.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN$/m);
    assert.match(unit, /^RestrictAddressFamilies=AF_NETLINK AF_INET AF_INET6 AF_UNIX$/m);
    assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=yes/m);
    assert.match(unit, /^RuntimeDirectoryPreserve=yes$/m);
  }
});

Deno.test("packaging: the man page documents every configuration key", async () => {
  const page = await Deno.readTextFile(packaged("joold.8"));
  const keys = [...NETSOCKET_KEYS, ...MODSOCKET_KEYS];
  for (const key of keys) {
    assert.ok(page.includes(`.B "${key}"`) || page.includes(`.BR "${key}"`), key);
  }
});

Deno.test("packaging: the keepalived example runs a real joold status, weighted, on tracked scripts", async () => {
  const conf = await Deno.readTextFile(packaged("keepalived/keepalived.conf"));
  const lines = conf.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
  /** The body lines of each `KIND NAME {` block (blocks nest one level at most here). */
  const blocks = (kind: string) => {
    const found = new Map<string, string[]>();
    for (let i = 0; i < lines.length; i++) {
      const open = lines[i].match(new RegExp(`^${kind} (\\S+) \\{$`));
      if (open === null) continue;
      const body: string[] = [];
      for (let depth = 1; depth > 0 && ++i < lines.length;) {
        depth += lines[i].endsWith("{") ? 1 : lines[i] === "}" ? -1 : 0;
        if (depth > 0) body.push(lines[i]);
      }
      found.set(open[1], body);
    }
    return found;
  };
  const scripts = blocks("vrrp_script");
  assert.ok(scripts.size > 0);
  for (const [name, body] of scripts) {
    const script = body.find((line) => line.startsWith("script "));
    const command = script?.match(/^script "([^"]+)"$/)?.[1].split(/\s+/);
    assert.ok(command !== undefined, `${name}: no script "..." line`);
    // Where install.sh puts the executable, and the units run it.
    assert.equal(command[0], "/usr/local/bin/joold", name);
    assert.equal(command[1], "status", name);
    const options = parseStatusArguments(command.slice(2));
    assert.equal(options.quiet, true, `${name}: quiet, keepalived only reads the exit status`);
    const weight = Number(body.find((line) => line.startsWith("weight "))?.split(/\s+/)[1]);
    assert.ok(weight < 0, `${name}: a negative weight, not FAULT (weight 0)`);
    assert.ok(body.includes("init_fail"), `${name}: not in sync until the first run says so`);
  }
  const instances = blocks("vrrp_instance");
  assert.ok(instances.size > 0);
  for (const [name, body] of instances) {
    const at = body.indexOf("track_script {");
    assert.notEqual(at, -1, `${name} tracks a script`);
    const tracked = body.slice(at + 1, body.indexOf("}", at)).map((line) => line.split(/\s+/)[0]);
    assert.ok(tracked.length > 0 && tracked.every((script) => scripts.has(script)), name);
    const priority = Number(body.find((line) => line.startsWith("priority "))?.split(/\s+/)[1]);
    assert.ok(priority > 0 && priority <= 254, name);
  }
  const failover = await Deno.readTextFile(
    fileURLToPath(new URL("../../docs/failover.md", import.meta.url)),
  );
  assert.ok(failover.includes("(../packaging/keepalived/keepalived.conf)"));
});

Deno.test("packaging: the units run joold as the system user joold, notify, watchdog, reload", async () => {
  const installer = await Deno.readTextFile(packaged("install.sh"));
  const postinst = await Deno.readTextFile(packaged("debian/postinst"));
  for (const name of ["joold.service", "joold@.service"]) {
    const unit = await Deno.readTextFile(packaged(name));
    // The account keygen shares the key with and check reads it as.
    assert.match(unit, new RegExp(`^User=${DAEMON_ACCOUNT}$`, "m"), name);
    assert.match(unit, new RegExp(`^Group=${DAEMON_ACCOUNT}$`, "m"), name);
    assert.doesNotMatch(unit, /^DynamicUser=/m, name);
    assert.match(unit, /^Type=notify$/m, name);
    assert.match(unit, /^NotifyAccess=main$/m, name);
    assert.match(unit, /^WatchdogSec=30s$/m, name);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, name);
    // Debian's jool-tools unit; ordered after, never required.
    assert.match(unit, /^After=jool\.service$/m, name);
    assert.doesNotMatch(unit, /^(Wants|Requires|BindsTo)=.*jool\.service/m, name);
    assert.doesNotMatch(unit, /jool-instance/, name);
  }
  assert.match(installer, new RegExp(`useradd --system .* ${DAEMON_ACCOUNT}$`, "m"));
  assert.match(
    postinst,
    new RegExp(`^ +adduser --system --group --no-create-home .* ${DAEMON_ACCOUNT}$`, "m"),
  );
});
