/**
 * The resync control messages our daemons exchange on the control port
 * (the sync port + 1 by default, same group). The C joold never binds that
 * port, so nothing here can reach its kernel.
 *
 * ```
 * offset size field
 *      0    4 magic "JDRS"
 *      4    1 version (1)
 *      5    1 type: 1 REQUEST (a node wants the peers' sessions),
 *                   2 ANSWER (a node is advertising in reply)
 *      6    2 reserved, 0
 *      8    8 nonce (be64), chosen by the requester
 *     16   16 instance name, NUL-padded
 * ```
 *
 * @module
 */

/** Length of every resync message. */
export const CONTROL_MESSAGE_LENGTH = 32;
const MAGIC = [0x4a, 0x44, 0x52, 0x53]; // "JDRS"
const VERSION = 1;
/** Bytes of the prefix every control message starts with: magic, version, type, reserved. */
export const CONTROL_PREFIX_LENGTH = 8;
/** Bytes of an instance name's field (15 bytes and a NUL at least). */
export const INSTANCE_FIELD_LENGTH = 16;

/**
 * Message types: the resync exchange's (this module), lossless delivery's
 * (src/sync/delivery_message.ts), the convergence check's
 * (src/sync/table_digest.ts).
 */
export const ControlType = {
  REQUEST: 1,
  ANSWER: 2,
  LEDGER: 3,
  NACK: 4,
  RESEND: 5,
  DIGEST: 6,
} as const;
/** One of {@link ControlType}. */
export type ControlType = typeof ControlType[keyof typeof ControlType];

/** A decoded resync message. */
export interface ControlMessage {
  type: typeof ControlType.REQUEST | typeof ControlType.ANSWER;
  nonce: bigint;
  instance: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes the prefix of a control message of `type` at the start of `bytes`. */
export function writeControlPrefix(bytes: Uint8Array, type: ControlType): void {
  bytes.set(MAGIC, 0);
  bytes[4] = VERSION;
  bytes[5] = type;
}

/** The type of a control message (magic and version checked), or null. */
export function controlTypeOf(bytes: Uint8Array): number | null {
  if (bytes.byteLength < CONTROL_PREFIX_LENGTH) return null;
  if (MAGIC.some((byte, i) => bytes[i] !== byte) || bytes[4] !== VERSION) return null;
  return bytes[5];
}

/** Writes an instance name's field at `offset`. Throws RangeError beyond 15 bytes. */
export function writeInstanceField(bytes: Uint8Array, offset: number, instance: string): void {
  const name = encoder.encode(instance);
  if (name.byteLength > 15) throw new RangeError("Instance name longer than 15 bytes");
  bytes.set(name, offset);
}

/** The instance name in the field at `offset`, or null if it is empty or has no NUL. */
export function readInstanceField(bytes: Uint8Array, offset: number): string | null {
  const nameBytes = bytes.subarray(offset, offset + INSTANCE_FIELD_LENGTH);
  const nul = nameBytes.indexOf(0);
  if (nul <= 0) return null;
  return decoder.decode(nameBytes.subarray(0, nul));
}

/**
 * A control message of `length` bytes and `type` for `instance`: its
 * prefix and, after it, the instance name's field written; the rest 0.
 */
export function newControlMessage(length: number, type: ControlType, instance: string): Uint8Array {
  const bytes = new Uint8Array(length);
  writeControlPrefix(bytes, type);
  writeInstanceField(bytes, CONTROL_PREFIX_LENGTH, instance);
  return bytes;
}

/** Encodes a resync message. The instance name must fit 15 bytes. */
export function encodeControlMessage(message: ControlMessage): Uint8Array {
  const bytes = new Uint8Array(CONTROL_MESSAGE_LENGTH);
  writeControlPrefix(bytes, message.type);
  new DataView(bytes.buffer).setBigUint64(8, message.nonce, false);
  writeInstanceField(bytes, 16, message.instance);
  return bytes;
}

/** Decodes a resync message; null for anything that is not one. */
export function decodeControlMessage(bytes: Uint8Array): ControlMessage | null {
  if (bytes.byteLength !== CONTROL_MESSAGE_LENGTH) return null;
  const type = controlTypeOf(bytes);
  if (type !== ControlType.REQUEST && type !== ControlType.ANSWER) return null;
  const instance = readInstanceField(bytes, 16);
  if (instance === null) return null;
  return {
    type,
    nonce: new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8, false),
    instance,
  };
}
