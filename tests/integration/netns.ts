/**
 * Helpers for tests that build hosts out of network namespaces. Needs root
 * and iproute2.
 */

/** Runs a command; throws with its stderr if it fails. */
export async function run(command: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Why namespace tests cannot run here, or null if they can. */
export function namespaceSupportMissing(): string | null {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "network namespaces need root";
  try {
    Deno.statSync("/usr/sbin/ip");
  } catch {
    try {
      Deno.statSync("/sbin/ip");
    } catch {
      return "iproute2 (ip) is not installed";
    }
  }
  return null;
}

/** Sets `settings` (`key=value`) in namespace `name`. */
export function sysctl(name: string, ...settings: string[]): Promise<string> {
  return run("ip", "netns", "exec", name, "sysctl", "-qw", ...settings);
}

/** A set of namespaces hanging off one bridge, removed by {@link Lan.destroy}. */
export class Lan {
  readonly prefix: string;
  readonly #namespaces: string[] = [];

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The bridge namespace's name. */
  get bridgeNamespace(): string {
    return `${this.prefix}br`;
  }

  /** Creates the bridge namespace. */
  async create(): Promise<void> {
    await this.#addNamespace(this.bridgeNamespace);
    await run("ip", "-n", this.bridgeNamespace, "link", "add", "br0", "type", "bridge");
    await run("ip", "-n", this.bridgeNamespace, "link", "set", "br0", "up");
  }

  async #addNamespace(name: string): Promise<void> {
    // One left by a run that was killed before its clean-up would make `add` fail.
    await new Deno.Command("ip", { args: ["netns", "del", name], stderr: "null" }).output();
    await run("ip", "netns", "add", name);
    this.#namespaces.push(name);
    await run("ip", "-n", name, "link", "set", "lo", "up");
    await sysctl(name, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
  }

  /**
   * Adds host `index` (1..250) as namespace `<prefix><index>` with interface
   * `eth0` on the bridge, holding 198.51.100.index/24 and
   * 2001:db8:ff08::index/64. Returns the namespace name.
   */
  async addHost(index: number): Promise<string> {
    const name = `${this.prefix}${index}`;
    await this.#addNamespace(name);
    await this.addLink(index);
    return name;
  }

  /**
   * Gives host `index` its `eth0` (again): the veth pair onto the bridge,
   * the host's two addresses, up.
   */
  async addLink(index: number): Promise<void> {
    const name = `${this.prefix}${index}`;
    const port = `${this.prefix}p${index}`;
    await run(
      "ip",
      "-n",
      name,
      "link",
      "add",
      "eth0",
      "type",
      "veth",
      "peer",
      "name",
      port,
      "netns",
      this.bridgeNamespace,
    );
    await run("ip", "-n", this.bridgeNamespace, "link", "set", port, "master", "br0", "up");
    await run("ip", "-n", name, "addr", "add", `198.51.100.${index}/24`, "dev", "eth0");
    await run("ip", "-n", name, "addr", "add", `2001:db8:ff08::${index}/64`, "dev", "eth0");
    await run("ip", "-n", name, "link", "set", "eth0", "up");
  }

  /** Deletes host `index`'s `eth0` (and so its veth peer on the bridge). */
  async deleteLink(index: number): Promise<void> {
    await run("ip", "-n", `${this.prefix}${index}`, "link", "del", "eth0");
  }

  /** Removes every namespace created. */
  async destroy(): Promise<void> {
    for (const name of this.#namespaces.reverse()) {
      await run("ip", "netns", "del", name).catch(() => {});
    }
  }
}
