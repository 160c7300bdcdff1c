/**
 * Runs the relay path once on a made-up batch before the daemon announces
 * that it is ready. V8 compiles a function the first time it runs; under
 * an emulated CPU compiling the relay's code (kernel batch decode, ACK,
 * datagram send; datagram checks, JOOLD_ADD) held the first real sessions
 * back by hundreds of ms (BENCHMARKS.md, exposure window on 4.1.9). Here
 * the same classes run on a transport and a channel that keep nothing:
 * nothing reaches the kernel or the peers, and the daemon's counters,
 * measures and logs are untouched (the warm-up has its own).
 *
 * @module
 */

import { AF_INET6 } from "../../ffi/constants.ts";
import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import { encodeJoolHeader, joolVersion } from "../jool/header.ts";
import { JoolOperation, RootAttribute, TranslatorType } from "../jool/protocol.ts";
import { encodeSessions, type Session, sessionEncodingFor } from "../jool/session.ts";
import { LevelLogger, type Logger } from "../log.ts";
import { AttributeEncoder, NLA_F_NESTED } from "../netlink/attribute.ts";
import { NetlinkClient } from "../netlink/client.ts";
import { decodeGenericMessage, encodeGenericMessage } from "../netlink/genetlink.ts";
import { decodeMessages } from "../netlink/message.ts";
import { SyncCounters } from "../stats/counters.ts";
import { JooldTraffic } from "../sync/joold_traffic.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";
import type { Clock } from "./clock.ts";
import { DropReporter } from "./drop_report.ts";
import { LocalJool } from "./local_jool.ts";
import { SyncMeasures } from "./measures.ts";
import { wireSyncPath } from "./sync_path.ts";

/** A family id no real message carries (the warm-up's messages never leave it). */
const WARM_UP_FAMILY = 0xfff0;
/** Sessions in the made-up batch: enough to run every per-session loop a few times. */
const WARM_UP_SESSIONS = 4;
/** Rounds: V8 compiles on the first call; a second one runs what it compiled. */
const WARM_UP_ROUNDS = 2;

/** What the warm-up carried, to tell that it went all the way. */
export interface WarmUpResult {
  /** ACKs the warm-up's kernel side would have sent. */
  acks: number;
  /** Datagrams the warm-up's group would have carried. */
  datagrams: number;
  /** JOOLD_ADD requests the warm-up's receiving side would have sent. */
  adds: number;
  /** Errors the relay logged (0 unless the warm-up itself is broken). */
  errors: number;
}

/** The daemon's own parts: the warm-up reads the clock and leaves the rest alone. */
export interface WarmUpDaemon {
  clock: Clock;
  counters: SyncCounters;
  measures: SyncMeasures;
  logger: Logger;
}

/**
 * Runs one made-up batch of `kernelVersion`'s encoding (4.1.15's if
 * unknown) from a kernel message to a JOOLD_ADD request, twice, on a
 * transport and a channel that discard, with counters, measures and a
 * logger of its own. Synchronous; takes no sockets. `datagramOverhead` as
 * the daemon's (non-zero when sealing) takes the sealed relay's way,
 * gathering included.
 */
export function warmUpRelayPath(
  kernelVersion: number | null,
  instance: string,
  daemon: WarmUpDaemon,
  datagramOverhead = 0,
): WarmUpResult {
  const { clock } = daemon;
  const version = kernelVersion ?? joolVersion(4, 1, 15, 0);
  const result: WarmUpResult = { acks: 0, datagrams: 0, adds: 0, errors: 0 };
  const logger = new LevelLogger("warning", (level) => {
    if (level === "error") result.errors++;
  });
  const counters = new SyncCounters();
  const measures = new SyncMeasures(clock.now());
  const client = new NetlinkClient({
    send: (datagram) => {
      for (const message of decodeMessages(datagram)) {
        const command = decodeGenericMessage(message).generic.command;
        if (command === JoolOperation.JOOLD_ADD) result.adds++;
        if (command === JoolOperation.JOOLD_ACK) result.acks++;
      }
    },
  }, {
    onMulticast: (message) => traffic.onMulticast(message),
    onStrayReply: (message) => traffic.onStrayReply(message),
  });
  const deps = { logger, counters, ackLatency: measures.ackLatency };
  const traffic = new JooldTraffic(deps, client, { familyId: WARM_UP_FAMILY, instance });
  const queued: Uint8Array[] = [];
  const received: PeerDatagram = { data: new Uint8Array(0), fullLength: 0, from: PEER };
  const channel = {
    send: (datagram: Uint8Array) => {
      result.datagrams++;
      queued.push(datagram.slice());
      return true;
    },
    receive: () => {
      const data = queued.shift();
      if (data === undefined) return null;
      received.data = data;
      received.fullLength = data.byteLength;
      return received;
    },
  };
  const sync = wireSyncPath({
    kernel: {
      listen: (handlers) => traffic.listen(handlers),
      add: (payload, origin) => traffic.add(payload, origin),
      advertise: () => Promise.resolve(),
      sessionPage: () => Promise.reject(new Error("Not during the warm-up")),
    },
    channel,
    jool: new LocalJool(version, logger),
    drops: new DropReporter(logger, clock),
    measures,
    counters,
    logger,
    clock,
    datagramOverhead,
  });
  const batch = kernelBatch(version, instance);
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    client.receive(batch);
    sync.toNetwork.flush();
    sync.toKernel.drain();
  }
  return result;
}

/** What the warm-up missed of a full run, or null if it went all the way. */
export function warmUpShortfall(result: WarmUpResult): string | null {
  const { acks, datagrams, adds, errors } = result;
  if (
    errors === 0 && acks === WARM_UP_ROUNDS && datagrams >= WARM_UP_ROUNDS && adds >= WARM_UP_ROUNDS
  ) {
    return null;
  }
  return `${acks} ACKs, ${datagrams} datagrams, ${adds} adds and ${errors} errors in ` +
    `${WARM_UP_ROUNDS} rounds`;
}

/** A made-up peer: 2001:db8::1, port 6464. */
const PEER: IpSocketAddress = {
  family: AF_INET6,
  address: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  port: 6464,
  scopeId: 0,
};

/** What a kernel of `version` multicasts: SESSION_ENTRIES with made-up UDP sessions. */
function kernelBatch(version: number, instance: string): Uint8Array {
  const sessions: Session[] = [];
  for (let index = 0; index < WARM_UP_SESSIONS; index++) {
    sessions.push({
      proto: "UDP",
      src6: { address: "2001:db8::5", port: 10000 + index },
      dst6: { address: "64:ff9b::cb00:7109", port: 53 },
      src4: { address: "192.0.2.1", port: 20000 + index },
      dst4: { address: "203.0.113.9", port: 53 },
      state: 0,
      timer: 0,
      expirationMs: 300_000,
    });
  }
  const attributes = new AttributeEncoder();
  attributes.bytes(
    RootAttribute.SESSION_ENTRIES | NLA_F_NESTED,
    encodeSessions(sessions, sessionEncodingFor(version)),
  );
  const header = encodeJoolHeader({ version, xt: TranslatorType.NAT64, flags: 0, instance });
  return encodeGenericMessage(
    { familyId: WARM_UP_FAMILY, flags: 0, sequence: 0 },
    { command: 0, version: 2 },
    new Uint8Array([...header, ...attributes.encode()]),
  );
}
