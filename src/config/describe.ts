/**
 * The checked configuration in words, one entry a setting: the daemon
 * prints every entry at start, `joold check` the brief forms in one line.
 *
 * @module
 */

import type { ModsocketConfig } from "./modsocket.ts";
import type { InterfaceChoice, NetsocketConfig } from "./netsocket.ts";

/** One setting in words. */
export interface ConfigFact {
  /** Its name as the files spell it. */
  label: string;
  /** Its value, defaults spelt out. */
  value: string;
  /** Its value in a report line, or null where a default is not worth a word. */
  brief: string | null;
}

function fact(label: string, value: string, brief: string | null): ConfigFact {
  return { label, value, brief };
}

function interfaceWords(choice: InterfaceChoice): { value: string; brief: string } {
  return choice.kind === "address"
    ? { value: `${choice.text} (${choice.name})`, brief: `${choice.text} (${choice.name})` }
    : { value: `${choice.text} (index ${choice.index})`, brief: choice.text };
}

/** The netsocket settings in effect. */
export function netsocketFacts(config: NetsocketConfig): ConfigFact[] {
  const family = config.family === "ipv4" ? "IPv4" : "IPv6";
  const kernel = "chosen by the kernel";
  const inWords = config.inInterface === null ? null : interfaceWords(config.inInterface);
  const outChoice = config.outInterface ?? config.inInterface;
  const outWords = outChoice === null ? null : interfaceWords(outChoice);
  const peers = config.unicastPeers?.map((peer) => peer.text).join(", ") ?? null;
  return [
    fact(
      "multicast address",
      `${config.address} (${family})`,
      `${config.address} port ${config.port}`,
    ),
    fact("multicast port", `${config.port}`, null),
    fact("in interface", inWords?.value ?? kernel, `in ${inWords?.brief ?? kernel}`),
    fact(
      "out interface",
      config.outInterface === null
        ? (config.inInterface === null ? kernel : "same as in interface")
        : outWords!.value,
      `out ${outWords?.brief ?? kernel}`,
    ),
    fact("ttl", `${config.ttl}`, `ttl ${config.ttl}`),
    fact(
      "control port",
      `${config.controlPort ?? "none (resync disabled)"}`,
      config.controlPort === null ? "no control port" : `control port ${config.controlPort}`,
    ),
    fact(
      "unicast peers",
      peers ?? "none (the multicast group)",
      peers === null ? null : `unicast to ${peers}`,
    ),
    fact(
      "auth key file",
      config.authKeyFile ?? "none (in clear)",
      config.authKeyFile === null ? null : "authenticated",
    ),
  ];
}

/** The modsocket settings in effect. */
export function modsocketFacts(config: ModsocketConfig): ConfigFact[] {
  return [
    fact("instance", config.instance, `instance '${config.instance}'`),
    fact(
      "enable ss",
      config.enableSs ? "yes" : "no",
      config.enableSs ? null : '"enable ss": false',
    ),
    fact(
      "ss max payload",
      config.ssMaxPayload === null
        ? "left alone"
        : `${config.ssMaxPayload} bytes (Jool 4.1.10 and earlier; put back at exit)`,
      null,
    ),
    fact(
      "ss capacity",
      config.ssCapacity === null
        ? "left alone"
        : `${config.ssCapacity} sessions (Jool 4.1.11 and later; put back at exit)`,
      null,
    ),
    fact(
      "ss flush asap",
      config.ssFlushAsap ? "turned on (Jool 4.1.12 and earlier; put back at exit)" : "left alone",
      null,
    ),
    fact(
      "ss flush deadline",
      config.ssFlushDeadline === null
        ? "left alone"
        : `${config.ssFlushDeadline} ms (Jool 4.1.13 and later; put back at exit)`,
      null,
    ),
  ];
}

/** Every fact on its own line, values aligned, as printed at start. */
export function factLines(facts: readonly ConfigFact[]): string[] {
  return facts.map(({ label, value }) => `  ${`${label}:`.padEnd(19)}${value}`);
}

/** The brief forms in one phrase, as a report line gives them. */
export function factPhrase(facts: readonly ConfigFact[]): string {
  return facts.flatMap(({ brief }) => brief === null ? [] : [brief]).join(", ");
}
