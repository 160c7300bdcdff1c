import assert from "node:assert/strict";
import { parseIPv6 } from "../src/net/ip.ts";
import { generate, type LoadPlan, PacketWriter } from "./load_generator.ts";

const PLAN: LoadPlan = {
  count: 5,
  rate: 0,
  source: parseIPv6("2001:db8:1::1000")!,
  destination: parseIPv6("64:ff9b::c000:202")!,
  port: 7777,
  firstPort: 10000,
  portsPerAddress: 2,
  burst: 1,
  firstIndex: 0,
};

/** RFC 8200 section 8.1, the long way: pseudo-header, then the UDP datagram. */
function referenceChecksum(packet: Uint8Array): number {
  const pseudo = [...packet.subarray(8, 40), 0, 0, 0, 16, 0, 0, 0, 17, ...packet.subarray(40)];
  pseudo[32 + 8 + 6] = 0; // the checksum field itself counts as zero
  pseudo[32 + 8 + 7] = 0;
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i] << 8) | pseudo[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum & 0xffff) || 0xffff;
}

Deno.test("packets: one new source per session, with a correct UDP checksum", () => {
  const writer = new PacketWriter(PLAN);
  const packet = new Uint8Array(56);
  writer.write(packet, 3);
  // deno-fmt-ignore
  const header = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x40, // IPv6, payload 16, UDP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // source 2001:db8:1::1001 (address + 3 / 2)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01,
    0x00, 0x64, 0xff, 0x9b, 0x00, 0x00, 0x00, 0x00, // destination 64:ff9b::c000:202
    0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02,
    0x27, 0x11, 0x1e, 0x61, 0x00, 0x10, // UDP 10001 (10000 + 3 % 2) -> 7777, length 16
  ];
  assert.deepEqual([...packet.subarray(0, 46)], header);
  assert.deepEqual([...packet.subarray(48)], [0, 0, 0, 3, 0x6a, 0x6f, 0x6f, 0x6c]); // index, "jool"
  for (let index = 0; index < 200_000; index += 7919) {
    writer.write(packet, index);
    const checksum = (packet[46] << 8) | packet[47];
    assert.equal(checksum, referenceChecksum(packet), `packet ${index}`);
  }
});

Deno.test("generate() numbers packets from the first index", async () => {
  const sent: number[] = [];
  const slot = new Uint8Array(56);
  await generate(
    { ...PLAN, count: 3, firstIndex: 70000 },
    {
      slots: 1,
      slot: () => slot,
      send: () => {
        sent.push(new DataView(slot.buffer).getUint32(48));
        return 1;
      },
    },
    () => Promise.resolve(),
  );
  assert.deepEqual(sent, [70000, 70001, 70002]);
});

Deno.test("generate() sends every packet once, in order, in bursts the sink allows", async () => {
  const sent: number[] = [];
  const slots = [new Uint8Array(56), new Uint8Array(56)];
  let full = true;
  const result = await generate(
    PLAN,
    {
      slots: 2,
      slot: (index) => slots[index],
      send: (count) => {
        if (full) { // the first call finds the socket's buffer full
          full = false;
          return 0;
        }
        for (let i = 0; i < count; i++) sent.push(slots[i][51]);
        return count;
      },
    },
    () => Promise.resolve(),
  );
  assert.deepEqual(sent, [0, 1, 2, 3, 4]);
  assert.equal(result.sent, 5);
  assert.equal(result.bufferFull, 1);
});
