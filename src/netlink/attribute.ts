/**
 * Netlink attributes (struct nlattr): their layout, and an encoder that
 * builds them. attribute_decoder.ts reads them.
 *
 * @module
 */

import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";

/** #define NLA_ALIGNTO 4 */
export const NLA_ALIGNTO = 4;

/** #define NLA_ALIGN(len) (((len) + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1)) */
export function nlaAlign(length: number): number {
  return (length + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);
}

/** #define NLA_HDRLEN ((int) NLA_ALIGN(sizeof(struct nlattr))) */
export const NLA_HDRLEN = 4;

/** #define NLA_F_NESTED (1 << 15) */
export const NLA_F_NESTED = 0x8000;
/** #define NLA_F_NET_BYTEORDER (1 << 14) */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** #define NLA_TYPE_MASK ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) */
export const NLA_TYPE_MASK = 0x3fff;

/**
 * Writes an attribute header (nla_len, nla_type, host order) at `offset` of
 * `view`; the payload is the caller's to write after it.
 */
export function putAttributeHeader(
  view: DataView,
  offset: number,
  length: number,
  type: number,
): void {
  view.setUint16(offset, length, NATIVE_LITTLE_ENDIAN);
  view.setUint16(offset + 2, type, NATIVE_LITTLE_ENDIAN);
}

const encoder = new TextEncoder();

/**
 * Builds a run of attributes. Values are written in host byte order, like
 * the kernel's nla_put_u16() and friends; `bytes()` copies as is.
 */
export class AttributeEncoder {
  #chunks: Uint8Array[] = [];
  #length = 0;

  #put(type: number, payload: Uint8Array): void {
    const length = NLA_HDRLEN + payload.byteLength;
    const attribute = new Uint8Array(nlaAlign(length));
    putAttributeHeader(viewOf(attribute), 0, length, type);
    attribute.set(payload, NLA_HDRLEN);
    this.#chunks.push(attribute);
    this.#length += attribute.byteLength;
  }

  /** nla_put_u8 */
  uint8(type: number, value: number): void {
    this.#put(type, Uint8Array.of(value));
  }

  /** nla_put_u16 */
  uint16(type: number, value: number): void {
    const payload = new Uint8Array(2);
    viewOf(payload).setUint16(0, value, NATIVE_LITTLE_ENDIAN);
    this.#put(type, payload);
  }

  /** nla_put_u32 */
  uint32(type: number, value: number): void {
    const payload = new Uint8Array(4);
    viewOf(payload).setUint32(0, value, NATIVE_LITTLE_ENDIAN);
    this.#put(type, payload);
  }

  /** nla_put_string: UTF-8 with a terminating NUL. */
  string(type: number, value: string): void {
    const text = encoder.encode(value);
    const payload = new Uint8Array(text.byteLength + 1);
    payload.set(text);
    this.#put(type, payload);
  }

  /** nla_put: raw bytes. */
  bytes(type: number, value: Uint8Array): void {
    this.#put(type, value);
  }

  /** nla_put_flag: an attribute with no payload. */
  flag(type: number): void {
    this.#put(type, new Uint8Array(0));
  }

  /**
   * nla_nest_start/nla_nest_end: an attribute whose payload is the
   * attributes `build` adds. NLA_F_NESTED is set unless `markNested` is
   * false (some old kernels' policies predate the flag).
   */
  nested(type: number, build: (nested: AttributeEncoder) => void, markNested = true): void {
    const inner = new AttributeEncoder();
    build(inner);
    this.#put(markNested ? type | NLA_F_NESTED : type, inner.encode());
  }

  /** Total bytes encoded so far. */
  get length(): number {
    return this.#length;
  }

  /** The attributes, concatenated. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}
