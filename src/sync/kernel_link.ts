/**
 * The daemon's side of the Jool Generic Netlink family for one instance:
 * the requests (instance checks, globals, advertising, table pages), with
 * the kernel's error reports turned into {@link KernelRefusalError}s, and,
 * through joold_traffic.ts, the session batches and adds.
 *
 * @module
 */

import type { Reactor } from "../../ffi/reactor.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { NetlinkClient, NetlinkError, type NetlinkTransport } from "../netlink/client.ts";
import { decodeGenericMessage, type GenericMessage } from "../netlink/genetlink.ts";
import { type Message, NLM_F_ACK, NLM_F_REQUEST } from "../netlink/message.ts";
import { drainNetlink, GenericNetlinkSocket } from "./netlink_socket.ts";
import { RECEIVE_BUFFER_BYTES } from "../net/drain.ts";
import {
  encodeGlobalForeach,
  encodeGlobalUpdate,
  encodeInstanceHello,
  encodeJooldAdd,
  encodeJooldAdvertise,
  encodeSessionForeach,
  encodeStatsForeach,
  type GlobalValue,
  type JoolRequestOptions,
} from "../jool/messages.ts";
import { decodeStatsPage } from "../jool/stats.ts";
import {
  decodeGlobalsPage,
  decodeInstanceStatus,
  decodePool6,
  decodeSessionsPage,
  type SessionsPage,
} from "../jool/kernel_messages.ts";
import { GlobalAttribute, globalAttributeSize, JOOLD_MULTICAST_GROUP } from "../jool/protocol.ts";
import type { Ipv6Prefix } from "../jool/session_convert.ts";
import { errorText } from "../error_text.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import { refusalIn } from "./kernel_errors.ts";
import { resolveJoolFamily } from "./jool_family.ts";
import { JooldTraffic, type KernelLinkDeps, type KernelLinkHandlers } from "./joold_traffic.ts";

export type { KernelLinkDeps, KernelLinkHandlers } from "./joold_traffic.ts";

/** What a link on a real socket needs in addition. */
export interface KernelSocketDeps extends KernelLinkDeps {
  sockets: Sockets;
  reactor: Reactor;
}

/** GLOBAL_FOREACH or STATS_FOREACH answers read at most (4.1.x sends either list in one). */
const MAX_LIST_ANSWERS = 8;

/**
 * The kernel side of the daemon for one Jool instance. The protocol logic
 * works on any {@link NetlinkTransport} fed through {@link receive}, so
 * tests can put a fake kernel behind it; {@link KernelLink.open} puts it on
 * a real netlink socket.
 */
export class KernelLink {
  readonly instance: string;
  readonly #client: NetlinkClient;
  readonly #deps: KernelLinkDeps;
  readonly #traffic: JooldTraffic;
  #familyId = 0;
  #onClose: (() => void) | null = null;
  #closed = false;

  constructor(deps: KernelLinkDeps, transport: NetlinkTransport, instance: string) {
    this.#deps = deps;
    this.instance = instance;
    this.#client = new NetlinkClient(transport, {
      onMulticast: (message) => this.#traffic.onMulticast(message),
      onStrayReply: (message) => this.#traffic.onStrayReply(message),
    });
    this.#traffic = new JooldTraffic(deps, this.#client, this);
  }

  /** The Jool family's id, as nlctrl resolved it (0 before). */
  get familyId(): number {
    return this.#familyId;
  }

  /**
   * Opens a netlink socket, registers it with the reactor (which must be
   * running for the look-ups to complete), resolves the Jool family and
   * joins its `joold` group, unless `joinGroup` is false: a command that
   * runs next to the daemon makes requests only, and must not receive (and
   * ACK) the daemon's session batches.
   *
   * Throws {@link JoolModuleMissingError} if the family is absent.
   */
  static async open(
    deps: KernelSocketDeps,
    instance: string,
    { joinGroup = true, receiveBuffer = RECEIVE_BUFFER_BYTES }: {
      joinGroup?: boolean;
      /** Bytes asked for the receive buffer (the modsocket's "netlink receive buffer"). */
      receiveBuffer?: number;
    } = {},
  ): Promise<KernelLink> {
    const socket = GenericNetlinkSocket.open(deps.sockets);
    let draining = false;
    /** Reads what is queued; false if a read is under way already (a handler's send). */
    const drainQueued = (): boolean => {
      if (draining) return false;
      draining = true;
      try {
        drainNetlink(socket, (datagram) => link.receive(datagram), () => link.overrun());
      } finally {
        draining = false;
      }
      return true;
    };
    const transport: NetlinkTransport = {
      send: (datagram) => {
        socket.send(datagram);
        // The kernel answers within the send: the answer is read now, not after a trip
        // through the reactor (a read under way reads it next, in order). What fails in that
        // read is the reader's, not the request's: it goes where the reactor's failures go.
        try {
          drainQueued();
        } catch (error) {
          deps.reactor.reportHandlerError(socket.fd, error);
        }
      },
    };
    const link = new KernelLink(deps, transport, instance);
    link.#onClose = () => {
      deps.reactor.unwatch(socket.fd);
      socket.close();
    };
    try {
      deps.reactor.watch(socket.fd, { readable: true }, () => {
        const pending = link.#client.pendingCount;
        drainQueued();
        // A reply settled a request: its caller (the next request) runs from the event loop.
        if (link.#client.pendingCount < pending) deps.reactor.yieldAfterDispatch();
      });
      const size = socket.setReceiveBuffer(receiveBuffer);
      deps.logger.debug(`Netlink receive buffer: ${size} bytes`);
      const group = await link.resolve();
      if (joinGroup) socket.joinGroup(group);
      return link;
    } catch (error) {
      link.close();
      throw error;
    }
  }

  /**
   * Resolves the Jool family and its `joold` group; returns the group id
   * to join. Throws {@link JoolModuleMissingError} if the family is absent.
   */
  async resolve(): Promise<number> {
    const { familyId, group } = await resolveJoolFamily(this.#client);
    this.#familyId = familyId;
    this.#deps.logger.info(
      `Kernel socket ready: family Jool id ${familyId}, group ${JOOLD_MULTICAST_GROUP} id ${group}, instance '${this.instance}'`,
    );
    return group;
  }

  /** Feeds one datagram from the kernel. Malformed ones are counted and logged. */
  receive(datagram: Uint8Array): void {
    try {
      this.#client.receive(datagram);
    } catch (error) {
      this.#deps.counters.kernelMalformed++;
      this.#deps.logger.error(`Ignoring a malformed message from the kernel: ${errorText(error)}`);
    }
  }

  /** Starts delivering batches, first those ACKed and held since the link opened. */
  listen(handlers: KernelLinkHandlers): void {
    this.#traffic.listen(handlers);
  }

  /** Hands sessions from a peer to the kernel (one JOOLD_ADD). `origin` names the peer for logs. */
  add(payload: Uint8Array, origin: string): void {
    this.#traffic.add(payload, origin);
  }

  /** Makes the kernel check its queue (an ACK no batch asked for): see JooldTraffic.nudge. */
  nudge(): void {
    this.#traffic.nudge();
  }

  /** Reports that the kernel dropped multicast to us (ENOBUFS). */
  overrun(): void {
    this.#traffic.overrun();
  }

  #header(sequence: number, flags = NLM_F_REQUEST) {
    return { familyId: this.familyId, sequence, flags, instance: this.instance };
  }

  /**
   * Checks that the instance exists and accepts sessions, with an empty
   * JOOLD_ADD (the kernel validates instance and SS state before adding
   * nothing). Throws {@link KernelRefusalError} with the kernel's message.
   */
  async probe(): Promise<void> {
    await this.#request(
      "Checking the Jool instance",
      (sequence) =>
        encodeJooldAdd(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK), new Uint8Array(0)),
    );
  }

  /**
   * Whether the instance exists in this namespace (INSTANCE_HELLO). Throws
   * {@link KernelRefusalError} if the kernel refuses to say.
   */
  async instanceExists(): Promise<boolean> {
    const replies = await this.#request(
      "Looking up the Jool instance",
      (sequence) => encodeInstanceHello(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK)),
    );
    for (const reply of replies) {
      if (reply.header.type === this.#familyId) {
        return decodeInstanceStatus(decodeGenericMessage(reply));
      }
    }
    throw new Error("Looking up the Jool instance failed: the kernel sent no status");
  }

  /**
   * Changes one global of the instance (GLOBAL_UPDATE), e.g. ss-enabled.
   * Throws {@link KernelRefusalError} with the kernel's message.
   */
  async updateGlobal(global: GlobalValue, description: string): Promise<void> {
    await this.#request(
      `Setting ${description}`,
      (sequence) => encodeGlobalUpdate(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK), global),
    );
  }

  /**
   * The instance's value of one scalar global (GLOBAL_FOREACH): a u32, or a
   * u8 (a boolean is 0 or 1); null if the kernel does not report it. Throws
   * {@link KernelRefusalError} with the kernel's message.
   */
  async readGlobalNumber(type: number): Promise<number | null> {
    const value = await this.#readGlobal(type);
    if (value === null) return null;
    const size = globalAttributeSize(type);
    if (value.byteLength !== size) {
      throw new Error(`Global ${type} is ${value.byteLength} bytes long, not ${size}`);
    }
    return size === 1 ? value[0] : viewOf(value).getUint32(0, NATIVE_LITTLE_ENDIAN);
  }

  /**
   * The instance's pool6 prefix (GLOBAL_FOREACH), or null if its pool6 is
   * empty or not reported. Throws {@link KernelRefusalError} with the
   * kernel's message.
   */
  async readPool6(): Promise<Ipv6Prefix | null> {
    const value = await this.#readGlobal(GlobalAttribute.POOL6);
    return value === null ? null : decodePool6(value);
  }

  /** The raw value of one global, or null if the kernel does not report it. */
  async #readGlobal(type: number): Promise<Uint8Array | null> {
    let value: Uint8Array | null = null;
    const operation = "Reading the instance's globals";
    await this.#readList(operation, encodeGlobalForeach, decodeGlobalsPage, (globals) => {
      value = globals.values.get(type) ?? null;
      return value !== null;
    });
    return value;
  }

  /**
   * The instance's stat counters (STATS_FOREACH), by id: which id is which
   * counter depends on the module's version (src/jool/stats.ts). Throws
   * {@link KernelRefusalError} with the kernel's message.
   */
  async readStats(): Promise<Map<number, bigint>> {
    const values = new Map<number, bigint>();
    const operation = "Reading the instance's stats";
    await this.#readList(operation, encodeStatsForeach, decodeStatsPage, (page) => {
      for (const [id, value] of page.values) values.set(id, value);
      return false;
    });
    return values;
  }

  /**
   * Reads a list keyed by u8 ids (globals, stats) answer by answer, each
   * asking for the ids after the last one received while the kernel says
   * more remain, until `take` returns true.
   */
  async #readList<Page extends { last: number; more: boolean }>(
    operation: string,
    encode: (options: JoolRequestOptions, after: number) => Uint8Array,
    decode: (message: GenericMessage) => Page,
    take: (page: Page) => boolean,
  ): Promise<void> {
    let after = 0;
    for (let answer = 0; answer < MAX_LIST_ANSWERS; answer++) {
      const replies = await this.#request(
        operation,
        (sequence) => encode(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK), after),
      );
      let next = 0;
      for (const reply of replies) {
        if (reply.header.type !== this.#familyId) continue;
        const page = decode(decodeGenericMessage(reply));
        if (take(page)) return;
        if (page.more && page.last > after) next = page.last;
      }
      if (next === 0) return;
      after = next;
    }
  }

  /**
   * Changes one global without waiting for the answer, for when nothing
   * reads the socket any more (shutdown). The kernel handles a netlink
   * request within the sender's system call, so the change is made when
   * this returns; only an error report would be lost. Throws SyscallError
   * if the request cannot be sent.
   */
  setGlobalNow(global: GlobalValue): void {
    this.#client.send((sequence) => encodeGlobalUpdate(this.#header(sequence), global));
  }

  /** Asks the kernel to multicast its whole session table (JOOLD_ADVERTISE). */
  async advertise(): Promise<void> {
    await this.#request(
      "Advertising the session table",
      (sequence) => encodeJooldAdvertise(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK)),
    );
  }

  /**
   * One page of the instance's sessions of `protocol` (SESSION_FOREACH),
   * starting after the entry `after` (the previous page's last). The
   * entries are copied: they outlive the socket's buffer. Throws
   * {@link KernelRefusalError} with the kernel's message.
   */
  async sessionPage(protocol: number, after: Uint8Array | null): Promise<SessionsPage> {
    const replies = await this.#request(
      "Reading the session table",
      (sequence) =>
        encodeSessionForeach(this.#header(sequence, NLM_F_REQUEST | NLM_F_ACK), protocol, after),
    );
    for (const reply of replies) {
      if (reply.header.type !== this.#familyId) continue;
      const page = decodeSessionsPage(decodeGenericMessage(reply));
      const entries = page.entries.slice();
      const lastOffset = page.last === null ? -1 : page.last.byteOffset - page.entries.byteOffset;
      return {
        entries,
        count: page.count,
        last: page.last === null
          ? null
          : entries.subarray(lastOffset, lastOffset + page.last.byteLength),
        more: page.more,
      };
    }
    throw new Error("Reading the session table failed: the kernel sent no sessions page");
  }

  /** Sends a request and turns a Jool error reply into KernelRefusalError. */
  async #request(operation: string, build: (sequence: number) => Uint8Array): Promise<Message[]> {
    let replies: Message[];
    try {
      replies = await this.#client.request(operation, build);
    } catch (error) {
      if (error instanceof NetlinkError) {
        const refusal = refusalIn(operation, error.replies, this.#familyId);
        if (refusal !== null) throw refusal;
      }
      throw error;
    }
    const refusal = refusalIn(operation, replies, this.#familyId);
    if (refusal !== null) throw refusal;
    return replies;
  }

  /** Fails pending requests and closes the socket, if any. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.cancelAll(new Error("Kernel link closed"));
    this.#onClose?.();
  }
}
