/**
 * A fake Jool instance behind {@link FakeKernel}, at the level of Jool's
 * messages: it answers joold's requests as one version's module does
 * (session sync on or off, the globals it reports, JOOLD_ADVERTISE that
 * multicasts the table from 4.1.11 on and does nothing before, the table
 * page by page) and multicasts batches when the test says. No sockets.
 *
 * @module
 */

import { AttributeEncoder, NLA_F_NESTED } from "../../src/netlink/attribute.ts";
import { AttributeDecoder } from "../../src/netlink/attribute_decoder.ts";
import { decodeGenericMessage, encodeGenericMessage } from "../../src/netlink/genetlink.ts";
import { type Message, NLM_F_ACK } from "../../src/netlink/message.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import {
  decodeJoolHeader,
  encodeJoolHeader,
  JOOL_HEADER_LENGTH,
  joolVersion,
  sameInstance,
} from "../../src/jool/header.ts";
import { kernelAdvertises } from "../../src/jool/kernel_behaviour.ts";
import {
  GlobalAttribute,
  globalAttributeSize,
  JoolHeaderFlag,
  JoolOperation,
  L4Protocol,
  RootAttribute,
  TranslatorType,
} from "../../src/jool/protocol.ts";
import {
  decodeSessions,
  encodeSessions,
  type Session,
  sessionEncodingFor,
  TABLE_READ_ENCODING,
} from "../../src/jool/session.ts";
import { type Ipv6Prefix, withDst6 } from "../../src/jool/session_convert.ts";
import { jooldStatId } from "../../src/jool/stats.ts";
import { KernelLink, type KernelLinkDeps } from "../../src/sync/kernel_link.ts";
import { errorReply, FakeKernel } from "./fake_kernel.ts";
import { type FakeFamily, serveFamily } from "./fake_nlctrl.ts";

/** The Jool family as the fake controller registers it. */
export const FAKE_JOOL_FAMILY: FakeFamily = {
  id: 30,
  name: "Jool",
  version: 2,
  groups: { joold: 7 },
};

/** What Jool says to JOOLD_ADD while session sync is off (EINVAL). */
export const SS_DISABLED_TEXT = "Session sync is disabled on this instance.";

/** errno of a request to a family that is not registered (any more). */
const ENOENT = 2;

/** Sessions per batch from 4.1.11 on (ss-max-sessions-per-packet's default). */
const SESSIONS_PER_BATCH = 36;

/** Sessions per SESSION_FOREACH page (57 nested entries fill 4.1.9's 8 KiB). */
const SESSIONS_PER_PAGE = 57;

const PROTOCOL_NAMES: Record<number, Session["proto"]> = {
  [L4Protocol.TCP]: "TCP",
  [L4Protocol.UDP]: "UDP",
  [L4Protocol.ICMP]: "ICMP",
};

/**
 * A Jool message from the kernel of `version` (default 4.1.9): Jool header
 * with `joolFlags` and `instance`, then `attributes`.
 */
export function kernelMessage(
  sequence: number,
  instance: string,
  attributes: Uint8Array,
  joolFlags = 0,
  version = joolVersion(4, 1, 9, 0),
): Uint8Array {
  const header = encodeJoolHeader({
    version,
    xt: TranslatorType.NAT64,
    flags: joolFlags,
    instance,
  });
  return encodeGenericMessage(
    { familyId: FAKE_JOOL_FAMILY.id, flags: 0, sequence },
    { command: 0, version: 2 },
    new Uint8Array([...header, ...attributes]),
  );
}

/** A batch the kernel multicasts: SESSION_ENTRIES holding `payload`. */
export function sessionBatch(
  instance: string,
  payload: Uint8Array,
  version?: number,
): Uint8Array {
  const attributes = new AttributeEncoder();
  attributes.bytes(RootAttribute.SESSION_ENTRIES | NLA_F_NESTED, payload);
  return kernelMessage(0, instance, attributes.encode(), 0, version);
}

/** The kernel's error report answering `request`: Jool's error `code` and `text`. */
export function joolErrorReply(
  request: Message,
  code: number,
  text: string,
  version?: number,
): Uint8Array {
  const attributes = new AttributeEncoder();
  attributes.uint16(1, code);
  attributes.string(2, text);
  const instance = decodeJoolHeader(decodeGenericMessage(request).data).instance;
  return kernelMessage(
    request.header.sequence,
    instance,
    attributes.encode(),
    JoolHeaderFlag.ERROR,
    version,
  );
}

/** How the fake instance starts. */
export interface FakeJoolOptions {
  /** The module's version, e.g. `joolVersion(4, 1, 9)`. */
  version: number;
  /** The one instance in the namespace; default "default". */
  instance?: string;
  /** `ss-enabled`; default on. */
  ssEnabled?: boolean;
  /** The scalar globals it reports, by type; default Jool's defaults for `version`. */
  globals?: Map<number, number>;
  /** Its session table; default empty. */
  sessions?: Session[];
}

/** One Jool instance of one version, behind a fake kernel. */
export class FakeJool {
  /** Give it to a KernelLink as its transport (see {@link fakeJoolLink}). */
  readonly kernel: FakeKernel;
  readonly version: number;
  readonly instance: string;
  ssEnabled: boolean;
  /** False once the instance is removed (`jool instance remove`): requests are refused. */
  instanceExists = true;
  /**
   * True once the module is unloaded: Generic Netlink answers every request
   * to the family with NLMSG_ERROR ENOENT, and the family is gone.
   */
  unloaded = false;
  readonly globals: Map<number, number>;
  sessions: Session[];
  /** The session payloads of JOOLD_ADDs taken in (copies), in order. */
  readonly added: Uint8Array[] = [];
  /** Its stat counters by id (STATS_FOREACH); default every id of `version`, at 0. */
  readonly stats: Map<number, bigint>;
  /** The most counters one STATS_FOREACH answer holds (then M); default all. */
  statsPerAnswer = Infinity;
  /**
   * Whether JOOLD_ADD puts the sessions it carries into {@link sessions}
   * (those of an identity not there yet; the rest refresh theirs), as the
   * kernel does; default off: they are only kept in {@link added}.
   */
  absorbAdds = false;
  /** Called on every JOOLD_ACK (tests/support/fake_joold_queue.ts). */
  onAck: (() => void) | null = null;
  readonly #refusals = new Map<number, { code: number; text: string }>();

  constructor(options: FakeJoolOptions) {
    this.version = options.version;
    this.instance = options.instance ?? "default";
    this.ssEnabled = options.ssEnabled ?? true;
    this.globals = options.globals ?? defaultGlobals(options.version);
    this.sessions = options.sessions ?? [];
    this.stats = defaultStats(options.version);
    this.kernel = new FakeKernel(serveFamily(FAKE_JOOL_FAMILY, (request) => this.#answer(request)));
  }

  /** Makes the kernel refuse every `command` (a JoolOperation) with `code` and `text`. */
  refuse(command: number, code: number, text: string): void {
    this.#refusals.set(command, { code, text });
  }

  /** The Jool commands received so far, in order. */
  commands(): number[] {
    return this.kernel.requests
      .filter((request) => request.header.type === FAKE_JOOL_FAMILY.id)
      .map((request) => decodeGenericMessage(request).generic.command);
  }

  /** Multicasts one batch of `payload` to the joold group, as the kernel does. */
  multicast(payload: Uint8Array, instance = this.instance): void {
    this.kernel.inject(sessionBatch(instance, payload, this.version));
  }

  #answer(request: Message): Uint8Array[] {
    if (this.unloaded) return [errorReply(request, ENOENT)];
    const message = decodeGenericMessage(request);
    const command = message.generic.command;
    const instance = decodeJoolHeader(message.data).instance;
    const attributes = message.data.subarray(JOOL_HEADER_LENGTH);
    const refusal = this.#refusals.get(command) ??
      (this.instanceExists && sameInstance(instance, this.instance) ? null : {
        code: 3,
        text: `This namespace lacks an instance named '${instance}'.`,
      }) ??
      (command === JoolOperation.JOOLD_ADD && !this.ssEnabled
        ? { code: 22, text: SS_DISABLED_TEXT }
        : null);
    const replies = refusal === null
      ? this.#serve(request, command, attributes)
      : [joolErrorReply(request, refusal.code, refusal.text, this.version)];
    if ((request.header.flags & NLM_F_ACK) === 0) return replies;
    // The ACK ends the request; what the kernel multicasts (an advertised
    // table) follows it.
    const [answers, multicast] = splitAnswers(replies);
    return [...answers, errorReply(request), ...multicast];
  }

  #serve(request: Message, command: number, attributes: Uint8Array): Uint8Array[] {
    const reply = (attributes: Uint8Array = new Uint8Array(0), flags = 0) =>
      kernelMessage(request.header.sequence, this.instance, attributes, flags, this.version);
    switch (command) {
      case JoolOperation.JOOLD_ACK:
        this.onAck?.();
        return [];
      case JoolOperation.JOOLD_ADD: {
        const entries = new AttributeDecoder(attributes);
        while (entries.next()) {
          if (entries.type === RootAttribute.SESSION_ENTRIES && entries.bytes().byteLength > 0) {
            this.added.push(entries.bytes().slice());
            if (this.absorbAdds) this.#absorb(entries.bytes());
          }
        }
        return [];
      }
      case JoolOperation.JOOLD_ADVERTISE:
        // Before 4.1.11 the kernel accepts it and sends nothing.
        return kernelAdvertises(this.version) ? [reply(), ...this.#tableBatches()] : [reply()];
      case JoolOperation.GLOBAL_FOREACH: {
        const globals = new AttributeEncoder();
        const types = [...this.globals.keys(), GlobalAttribute.JOOLD_ENABLED].sort((a, b) => a - b);
        for (const type of types) {
          if (type === GlobalAttribute.JOOLD_ENABLED) globals.uint8(type, this.ssEnabled ? 1 : 0);
          else if (globalAttributeSize(type) === 1) globals.uint8(type, this.globals.get(type)!);
          else globals.uint32(type, this.globals.get(type)!);
        }
        return [reply(globals.encode())];
      }
      case JoolOperation.GLOBAL_UPDATE: {
        const root = new AttributeDecoder(attributes);
        while (root.next()) {
          if (root.type !== RootAttribute.GLOBALS) continue;
          root.nested((global) => {
            while (global.next()) {
              if (global.type === GlobalAttribute.JOOLD_ENABLED) {
                this.ssEnabled = global.uint8() !== 0;
              } else if (globalAttributeSize(global.type) === 1) {
                this.globals.set(global.type, global.uint8());
              } else this.globals.set(global.type, global.uint32());
            }
          });
        }
        return [reply()];
      }
      case JoolOperation.SESSION_FOREACH:
        return [this.#sessionPage(attributes, reply)];
      case JoolOperation.STATS_FOREACH:
        return [this.#statsPage(attributes, reply)];
      default:
        throw new Error(`The fake Jool does not serve command ${command}`);
    }
  }

  /** Puts the sessions of a JOOLD_ADD payload into the table, as the kernel's collision_cb(). */
  #absorb(payload: Uint8Array): void {
    for (const session of decodeSessions(payload, sessionEncodingFor(this.version)).sessions) {
      const full = withDst6(session, FAKE_POOL6);
      const at = this.sessions.findIndex((known) => sameIdentity(known, full));
      if (at < 0) this.sessions.push(full);
      else this.sessions[at] = full;
    }
  }

  /** The whole table as the kernel advertises it: batches of 36 sessions. */
  #tableBatches(): Uint8Array[] {
    const encoding = sessionEncodingFor(this.version);
    const batches: Uint8Array[] = [];
    for (let i = 0; i < this.sessions.length; i += SESSIONS_PER_BATCH) {
      const sessions = this.sessions.slice(i, i + SESSIONS_PER_BATCH);
      batches.push(sessionBatch(this.instance, encodeSessions(sessions, encoding), this.version));
    }
    return batches;
  }

  /** One STATS_FOREACH answer: the counters after OFFSET_U8's id, M if more remain. */
  #statsPage(
    attributes: Uint8Array,
    reply: (attributes: Uint8Array, flags: number) => Uint8Array,
  ): Uint8Array {
    let after = 0;
    const request = new AttributeDecoder(attributes);
    while (request.next()) {
      if (request.type === RootAttribute.OFFSET_U8) after = request.uint8();
    }
    const ids = [...this.stats.keys()].filter((id) => id > after).sort((a, b) => a - b);
    const counters = new AttributeEncoder();
    const sent = ids.slice(0, this.statsPerAnswer);
    for (const id of sent) {
      const value = new Uint8Array(8);
      viewOf(value).setBigUint64(0, this.stats.get(id)!, NATIVE_LITTLE_ENDIAN);
      counters.bytes(id, value);
    }
    return reply(counters.encode(), sent.length < ids.length ? JoolHeaderFlag.M : 0);
  }

  /** One SESSION_FOREACH page: the sessions of PROTO after OFFSET's, M if more remain. */
  #sessionPage(
    attributes: Uint8Array,
    reply: (attributes: Uint8Array, flags: number) => Uint8Array,
  ): Uint8Array {
    let protocol = -1;
    let after: Uint8Array | null = null;
    const request = new AttributeDecoder(attributes);
    while (request.next()) {
      if (request.type === RootAttribute.PROTO) protocol = request.uint8();
      if (request.type === RootAttribute.OFFSET) after = request.bytes();
    }
    // Nested on every 4.1 release, whatever the batches' encoding.
    const entries = this.sessions
      .filter((session) => session.proto === PROTOCOL_NAMES[protocol])
      .map((session) => encodeSessions([session], TABLE_READ_ENCODING));
    // The OFFSET is the payload of the previous page's last entry.
    const start = after === null
      ? 0
      : entries.findIndex((entry) => sameBytes(entry.subarray(4), after!)) + 1;
    const page = entries.slice(start, start + SESSIONS_PER_PAGE);
    const more = start + page.length < entries.length;
    return reply(concat(page), more ? JoolHeaderFlag.M : 0);
  }
}

/** A KernelLink on `jool`'s kernel for `instance` (default the fake's), its family resolved. */
export async function fakeJoolLink(
  jool: FakeJool,
  deps: KernelLinkDeps,
  instance = jool.instance,
): Promise<KernelLink> {
  const link = new KernelLink(deps, jool.kernel, instance);
  jool.kernel.connect((datagram) => link.receive(datagram));
  await link.resolve();
  return link;
}

/** The pool6 the fake instance builds a raw36 session's dst6 from. */
export const FAKE_POOL6: Ipv6Prefix = {
  address: new Uint8Array([0, 0x64, 0xff, 0x9b, ...new Array(12).fill(0)]),
  length: 96,
};

/** Whether two sessions have the same identity (what the kernel's tables are keyed by). */
function sameIdentity(a: Session, b: Session): boolean {
  return a.proto === b.proto && a.src6.address === b.src6.address &&
    a.src6.port === b.src6.port && a.src4.address === b.src4.address &&
    a.src4.port === b.src4.port && a.dst4.address === b.dst4.address &&
    a.dst4.port === b.dst4.port;
}

/** Jool's defaults of the u32 session-sync globals and the session timeouts (ms) on `version`. */
function defaultGlobals(version: number): Map<number, number> {
  const globals = new Map<number, number>([
    [GlobalAttribute.TTL_TCP_EST, 7_200_000],
    [GlobalAttribute.TTL_TCP_TRANS, 240_000],
    [GlobalAttribute.TTL_UDP, 300_000],
    [GlobalAttribute.TTL_ICMP, 60_000],
    [GlobalAttribute.JOOLD_FLUSH_ASAP, 1],
    [GlobalAttribute.JOOLD_FLUSH_DEADLINE, 2000],
    [GlobalAttribute.JOOLD_CAPACITY, 512],
    [GlobalAttribute.JOOLD_MAX_PAYLOAD, 1452],
  ]);
  if (kernelAdvertises(version)) globals.set(GlobalAttribute.JOOLD_MAX_SESSIONS_PER_PACKET, 36);
  return globals;
}

/** Every counter of `version` at 0: ids 1 to JSTAT_UNKNOWN (the last the kernel sends). */
function defaultStats(version: number): Map<number, bigint> {
  const unknown = (jooldStatId(version, "JOOLD_ACKS") ?? JSTAT_ICMPEXT_BIG) + 1;
  return new Map(Array.from({ length: unknown }, (_, i) => [i + 1, 0n]));
}

/** The last counter before the joold ones, in every 4.1.9+ version. */
const JSTAT_ICMPEXT_BIG = 68;

/** The replies to the request itself, then the batches multicast (sequence 0). */
function splitAnswers(replies: Uint8Array[]): [Uint8Array[], Uint8Array[]] {
  const sequenceOf = (datagram: Uint8Array) => viewOf(datagram).getUint32(8, NATIVE_LITTLE_ENDIAN);
  return [
    replies.filter((datagram) => sequenceOf(datagram) !== 0),
    replies.filter((datagram) => sequenceOf(datagram) === 0),
  ];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

/** The bytes of `parts`, one after the other, in a new array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((length, part) => length + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
