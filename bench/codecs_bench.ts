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
import {
  encodeSessions,
  SessionValidator,
  TABLE_READ_ENCODING,
  validateSessions,
} from "../src/jool/session.ts";
import { readCheckedSessionFields } from "../src/jool/session_decode.ts";
import { writeSessionFields } from "../src/jool/session_encode.ts";
import type { SessionFields } from "../src/jool/session_layout.ts";
import { countsInRound } from "../src/sync/convergence_round.ts";
import { TableDigest } from "../src/sync/table_digest.ts";
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

/**
 * A convergence round's CPU on the host, past the kernel: each page of the
 * table (57 nested entries, as SESSION_FOREACH sends them) checked,
 * decoded, judged by the round's rule and hashed into the digest. 100,000
 * made-up sessions; the 1M case reads them ten times (the cost is per
 * session, not per identity).
 */
const TABLE_PAGE_SESSIONS = 57;
const tablePages: Uint8Array[] = [];
{
  const page: SessionFields[] = [];
  for (let i = 0; i < 100_000; i++) {
    const src6 = new Uint8Array(16);
    src6.set([0x20, 0x01, 0x0d, 0xb8]);
    new DataView(src6.buffer).setUint32(12, i >>> 4);
    page.push({
      packed: 1 << 5, // UDP
      src6,
      src6Port: 10_000 + (i & 15),
      dst6: Uint8Array.from([0, 0x64, 0xff, 0x9b, ...new Array(8).fill(0), 203, 0, 113, 9]),
      dst6Port: 53,
      src4: Uint8Array.from([192, 0, 2, i & 0xff]),
      src4Port: 1024 + (i >>> 8),
      dst4: Uint8Array.from([203, 0, 113, 9]),
      dst4Port: 53,
      expirationMs: 100_000 + (i % 150_000),
    });
    if (page.length === TABLE_PAGE_SESSIONS || i === 99_999) {
      tablePages.push(writeSessionFields(page, TABLE_READ_ENCODING));
      page.length = 0;
    }
  }
}
const roundTimeouts = { tcpEst: 7_200_000, tcpTrans: 240_000, udp: 300_000, icmp: 60_000 };

function digestTable(passes: number): TableDigest {
  const digest = new TableDigest();
  for (let pass = 0; pass < passes; pass++) {
    for (const page of tablePages) {
      if (validateSessions(page, TABLE_READ_ENCODING) !== null) throw new Error("invalid");
      for (const fields of readCheckedSessionFields(page, TABLE_READ_ENCODING)) {
        if (countsInRound(fields, roundTimeouts, 0)) digest.addIdentity(fields);
      }
    }
  }
  return digest;
}

Deno.bench("convergence round: digest of 100k sessions (check, decode, rule, hash)", {
  group: "convergence",
  warmup: 3,
  n: 20,
}, () => {
  digestTable(1);
});

Deno.bench("convergence round: digest of 1M sessions (check, decode, rule, hash)", {
  group: "convergence",
  warmup: 1,
  n: 5,
}, () => {
  digestTable(10);
});
