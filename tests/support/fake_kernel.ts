/**
 * A fake kernel at the level of netlink messages, for unit tests: it
 * decodes what the client sends and answers with datagrams a handler
 * builds, asynchronously, as a socket would. No system calls.
 *
 * @module
 */

import { AttributeEncoder } from "../../src/netlink/attribute.ts";
import type { NetlinkTransport } from "../../src/netlink/client.ts";
import {
  decodeMessages,
  encodeMessage,
  type Message,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
  putMessageHeader,
} from "../../src/netlink/message.ts";

/** Builds the reply datagrams to one request (none to stay silent). */
export type FakeKernelHandler = (request: Message) => Uint8Array[];

/** A {@link NetlinkTransport} answered by a handler instead of a kernel. */
export class FakeKernel implements NetlinkTransport {
  /** Every message sent so far, in order. */
  readonly requests: Message[] = [];
  /** While set, sends throw it (a socket's failure) and reach nothing. */
  sendFailure: Error | null = null;
  #deliver: ((datagram: Uint8Array) => void) | null = null;
  readonly #handler: FakeKernelHandler;

  constructor(handler: FakeKernelHandler) {
    this.#handler = handler;
  }

  /** Where replies go (normally `client.receive`). */
  connect(deliver: (datagram: Uint8Array) => void): void {
    this.#deliver = deliver;
  }

  send(datagram: Uint8Array): void {
    if (this.sendFailure !== null) throw this.sendFailure;
    for (const message of decodeMessages(datagram.slice())) {
      this.requests.push(message);
      const replies = this.#handler(message);
      queueMicrotask(() => replies.forEach((reply) => this.#deliver?.(reply)));
    }
  }

  /** Delivers an unsolicited datagram (e.g. a multicast batch). */
  inject(datagram: Uint8Array): void {
    this.#deliver?.(datagram);
  }
}

/**
 * An NLMSG_ERROR answering `request`: error 0 is an ACK. With `text`, the
 * request is capped and an NLMSGERR_ATTR_MSG follows, as Linux does with
 * NETLINK_EXT_ACK.
 */
export function errorReply(request: Message, errno = 0, text?: string): Uint8Array {
  const echoed = new Uint8Array(NLMSG_HDRLEN);
  putMessageHeader(echoed, 0, request.header);
  const tlvs = new AttributeEncoder();
  if (text !== undefined) tlvs.string(NLMSGERR_ATTR_MSG, text);
  const payload = new Uint8Array(4 + NLMSG_HDRLEN + tlvs.length);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  payload.set(echoed, 4);
  payload.set(tlvs.encode(), 4 + NLMSG_HDRLEN);
  return encodeMessage(
    {
      type: NLMSG_ERROR,
      flags: text === undefined ? NLM_F_CAPPED : NLM_F_CAPPED | NLM_F_ACK_TLVS,
      sequence: request.header.sequence,
      portId: request.header.portId,
    },
    payload,
  );
}
