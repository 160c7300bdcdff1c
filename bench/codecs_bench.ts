/**
 * Micro-benchmarks of the per-batch hot path: what runs between the kernel's
 * batch arriving and the ACK / the relay, and per datagram from a peer.
 * Run: `scripts/deno.sh task bench` (with the daemon's V8 flags).
 */

import { AttributeEncoder } from "../src/netlink/attribute.ts";
import { decodeGenericMessage, encodeGenericMessage } from "../src/netlink/genetlink.ts";
import { decodeMessages } from "../src/netlink/message.ts";
import { encodeJoolHeader, joolVersion } from "../src/jool/header.ts";
import { decodeSessionBatch } from "../src/jool/kernel_messages.ts";
import { encodeJooldAck, encodeJooldAdd, JooldEncoder } from "../src/jool/messages.ts";
import { RootAttribute } from "../src/jool/protocol.ts";
import { encodeSessions, SessionValidator, validateSessions } from "../src/jool/session.ts";
import { datagramHash } from "../src/sync/delivery_message.ts";
import { DeliverySender } from "../src/sync/delivery_sender.ts";
import { sampleUdpSession } from "../tests/support/session_samples.ts";

const session = sampleUdpSession;
const sessions = Array.from({ length: 10 }, (_, i) => session(i)); // 1452-byte ss-max-payload
const nested = encodeSessions(sessions, "nested-4.1.0");
const raw36 = encodeSessions(Array.from({ length: 36 }, (_, i) => session(i)), "raw36-4.1.13");

const attributes = new AttributeEncoder();
attributes.bytes(RootAttribute.SESSION_ENTRIES | 0x8000, nested);
const batchDatagram = encodeGenericMessage(
  { familyId: 30, flags: 0, sequence: 0 },
  { command: 0, version: 2 },
  new Uint8Array([
    ...encodeJoolHeader({ version: joolVersion(4, 1, 9), xt: 2, flags: 0, instance: "default" }),
    ...attributes.encode(),
  ]),
);
const options = { familyId: 30, sequence: 1, instance: "default" };

Deno.bench("decode a kernel batch (10 nested sessions) to its payload", { group: "kernel" }, () => {
  for (const message of decodeMessages(batchDatagram)) {
    decodeSessionBatch(decodeGenericMessage(message));
  }
});

Deno.bench("encode JOOLD_ACK", { group: "kernel" }, () => {
  encodeJooldAck(options);
});

const encoder = new JooldEncoder(options);
let sequence = 1;

Deno.bench("encode JOOLD_ACK into a reused buffer", { group: "kernel" }, () => {
  encoder.ack(sequence++);
});

Deno.bench("validate a peer datagram: 10 nested sessions", { group: "peer" }, () => {
  if (validateSessions(nested, "nested-4.1.0") !== null) throw new Error("invalid");
});

Deno.bench("validate a peer datagram: 36 raw36 sessions", { group: "peer" }, () => {
  if (validateSessions(raw36, "raw36-4.1.13") !== null) throw new Error("invalid");
});

const validator = new SessionValidator();

Deno.bench(
  "validate a peer datagram: 10 nested sessions, kept validator",
  { group: "peer" },
  () => {
    if (validator.check(nested, "nested-4.1.0") !== null) throw new Error("invalid");
  },
);

Deno.bench("encode JOOLD_ADD of a 1400-byte datagram", { group: "peer" }, () => {
  encodeJooldAdd(options, nested);
});

Deno.bench(
  "encode JOOLD_ADD of a 1400-byte datagram into a reused buffer",
  { group: "peer" },
  () => {
    encoder.add(sequence++, nested);
  },
);

const delivery = new DeliverySender("default", 5, 0);

Deno.bench(
  "lossless delivery: number a sent datagram (36 raw36 sessions: hash, buffer)",
  { group: "delivery" },
  () => {
    delivery.record(raw36);
    if (delivery.unannounced >= 64) delivery.takeLedgers(false);
  },
);

Deno.bench(
  "lossless delivery: the short hash of a received datagram",
  { group: "delivery" },
  () => {
    datagramHash(raw36);
  },
);
