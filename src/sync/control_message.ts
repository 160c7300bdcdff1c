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

/** Length of every control message. */
export const CONTROL_MESSAGE_LENGTH = 32;
const MAGIC = [0x4a, 0x44, 0x52, 0x53]; // "JDRS"
const VERSION = 1;

/** Message types. */
export const ControlType = { REQUEST: 1, ANSWER: 2 } as const;
/** One of {@link ControlType}. */
export type ControlType = typeof ControlType[keyof typeof ControlType];

/** A decoded control message. */
export interface ControlMessage {
  type: ControlType;
  nonce: bigint;
  instance: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a control message. The instance name must fit 15 bytes. */
export function encodeControlMessage(message: ControlMessage): Uint8Array {
  const bytes = new Uint8Array(CONTROL_MESSAGE_LENGTH);
  bytes.set(MAGIC, 0);
  bytes[4] = VERSION;
  bytes[5] = message.type;
  new DataView(bytes.buffer).setBigUint64(8, message.nonce, false);
  const name = encoder.encode(message.instance);
  if (name.byteLength > 15) throw new RangeError("Instance name longer than 15 bytes");
  bytes.set(name, 16);
  return bytes;
}

/** Decodes a control message; null for anything that is not one. */
export function decodeControlMessage(bytes: Uint8Array): ControlMessage | null {
  if (bytes.byteLength !== CONTROL_MESSAGE_LENGTH) return null;
  if (MAGIC.some((byte, i) => bytes[i] !== byte) || bytes[4] !== VERSION) return null;
  const type = bytes[5];
  if (type !== ControlType.REQUEST && type !== ControlType.ANSWER) return null;
  const nameBytes = bytes.subarray(16, 32);
  const nul = nameBytes.indexOf(0);
  if (nul <= 0) return null;
  return {
    type,
    nonce: new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8, false),
    instance: decoder.decode(nameBytes.subarray(0, nul)),
  };
}
