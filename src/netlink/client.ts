/**
 * Request/reply bookkeeping over a netlink transport: sequence numbers,
 * matching replies to requests, ACK and error handling, time-outs. The
 * transport is anything that sends a datagram; received datagrams are fed
 * in through {@link NetlinkClient.receive}. No sockets here, so tests can
 * put a fake kernel behind it.
 *
 * @module
 */

import {
  decodeErrorPayload,
  decodeMessages,
  type Message,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
} from "./message.ts";

/** Sends one datagram to the kernel. */
export interface NetlinkTransport {
  send(datagram: Uint8Array): void;
}

/** The kernel refused a request: NLMSG_ERROR with a non-zero error. */
export class NetlinkError extends Error {
  /** Positive errno. */
  readonly errno: number;
  /** The kernel's extended-ACK text, if any. */
  readonly kernelMessage: string | null;
  /** Replies that came before the error (e.g. a family's own error message). */
  readonly replies: Message[];

  constructor(operation: string, errno: number, kernelMessage: string | null, replies: Message[]) {
    super(
      `${operation} failed: kernel error ${errno}` +
        (kernelMessage === null ? "" : `: ${kernelMessage}`),
    );
    this.name = "NetlinkError";
    this.errno = errno;
    this.kernelMessage = kernelMessage;
    this.replies = replies;
  }
}

/** The kernel did not finish answering in time. */
export class NetlinkTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`${operation} failed: the kernel did not answer within ${timeoutMs} ms`);
    this.name = "NetlinkTimeoutError";
  }
}

/** Callbacks for what does not belong to a pending request. */
export interface NetlinkClientHandlers {
  /** A message with sequence 0 (kernel multicast / notification). */
  onMulticast(message: Message): void;
  /** A reply to a fire-and-forget {@link NetlinkClient.send} (usually an error). */
  onStrayReply(message: Message): void;
}

interface Pending {
  operation: string;
  replies: Message[];
  resolve(replies: Message[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Sequence numbers cycle through 1..2^32-1; 0 marks kernel multicast. */
const MAX_SEQUENCE = 0xffffffff;

/** Default time a request may wait for the kernel. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * Matches replies to requests by sequence number. Requests are sent with
 * NLM_F_ACK, so every one ends with an NLMSG_ERROR (error 0 = success).
 */
export class NetlinkClient {
  readonly #transport: NetlinkTransport;
  readonly #handlers: NetlinkClientHandlers;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #sequence = 0;

  constructor(
    transport: NetlinkTransport,
    handlers: NetlinkClientHandlers,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.#transport = transport;
    this.#handlers = handlers;
    this.#timeoutMs = timeoutMs;
  }

  /** The next sequence number to stamp on a message. */
  nextSequence(): number {
    this.#sequence = this.#sequence >= MAX_SEQUENCE ? 1 : this.#sequence + 1;
    return this.#sequence;
  }

  /**
   * Sends a request built for the given sequence number (it must set
   * NLM_F_ACK) and resolves with every reply before the final ACK.
   * Rejects with {@link NetlinkError} or {@link NetlinkTimeoutError}.
   */
  request(operation: string, build: (sequence: number) => Uint8Array): Promise<Message[]> {
    const sequence = this.nextSequence();
    const datagram = build(sequence);
    return new Promise<Message[]>((resolve, reject) => {
      const pending: Pending = {
        operation,
        replies: [],
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#pending.delete(sequence);
          reject(new NetlinkTimeoutError(operation, this.#timeoutMs));
        }, this.#timeoutMs),
      };
      this.#pending.set(sequence, pending);
      try {
        this.#transport.send(datagram);
      } catch (error) {
        clearTimeout(pending.timer);
        this.#pending.delete(sequence);
        reject(error);
      }
    });
  }

  /**
   * Sends a message that expects no answer on success. Replies that still
   * come (errors) reach `onStrayReply`. Returns the sequence number used.
   */
  send(build: (sequence: number) => Uint8Array): number {
    const sequence = this.nextSequence();
    this.#transport.send(build(sequence));
    return sequence;
  }

  /** Feeds one received datagram (it may hold several messages). */
  receive(datagram: Uint8Array): void {
    for (const message of decodeMessages(datagram)) this.#route(message);
  }

  #route(message: Message): void {
    const { sequence, type } = message.header;
    if (type === NLMSG_NOOP) return;
    if (sequence === 0) {
      this.#handlers.onMulticast(message);
      return;
    }
    const pending = this.#pending.get(sequence);
    if (pending === undefined) {
      this.#handlers.onStrayReply(message);
      return;
    }
    if (type === NLMSG_ERROR) {
      const error = decodeErrorPayload(message);
      this.#finish(sequence, pending);
      if (error.errno === 0) pending.resolve(pending.replies);
      else {
        pending.reject(
          new NetlinkError(pending.operation, error.errno, error.extendedMessage, pending.replies),
        );
      }
      return;
    }
    if (type === NLMSG_DONE) {
      // A dump ends here; its ACK (if any) follows and finds nothing pending.
      this.#finish(sequence, pending);
      pending.resolve(pending.replies);
      return;
    }
    // Data needs copying: the datagram buffer is reused by the socket.
    pending.replies.push({ header: { ...message.header }, data: message.data.slice() });
  }

  #finish(sequence: number, pending: Pending): void {
    clearTimeout(pending.timer);
    this.#pending.delete(sequence);
  }

  /** Fails every pending request (used on shutdown). */
  cancelAll(reason: Error): void {
    for (const [sequence, pending] of this.#pending) {
      this.#finish(sequence, pending);
      pending.reject(reason);
    }
  }

  /** Number of requests still waiting for the kernel. */
  get pendingCount(): number {
    return this.#pending.size;
  }
}
