/**
 * Netlink attributes (struct nlattr): an encoder that builds them and a
 * decoder that walks them, keeping the first error it meets.
 *
 * @module
 */

import { NATIVE_LITTLE_ENDIAN, viewOf } from "./native_endian.ts";

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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
    const view = viewOf(attribute);
    view.setUint16(0, length, NATIVE_LITTLE_ENDIAN);
    view.setUint16(2, type, NATIVE_LITTLE_ENDIAN);
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

/** An attribute run that does not decode, or a value of the wrong size. */
export class AttributeDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed netlink attribute: ${detail}`);
    this.name = "AttributeDecodeError";
  }
}

/**
 * Walks a run of attributes:
 *
 * ```ts
 * const ad = new AttributeDecoder(bytes);
 * while (ad.next()) {
 *   if (ad.type === CODE) code = ad.uint16();
 * }
 * if (ad.error) throw ad.error;
 * ```
 *
 * The first problem (bad length, wrong value size) is kept in `error` and
 * stops the walk; value getters then return zero values.
 */
export class AttributeDecoder {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;
  #type = 0;
  #rawType = 0;
  #payload: Uint8Array = new Uint8Array(0);
  #error: AttributeDecodeError | null = null;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
  }

  /** Moves to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.#error !== null || this.#offset >= this.#bytes.byteLength) return false;
    const remaining = this.#bytes.byteLength - this.#offset;
    if (remaining < NLA_HDRLEN) {
      this.#error = new AttributeDecodeError(
        `${remaining} trailing bytes at offset ${this.#offset}`,
      );
      return false;
    }
    const length = this.#view.getUint16(this.#offset, NATIVE_LITTLE_ENDIAN);
    if (length < NLA_HDRLEN || length > remaining) {
      this.#error = new AttributeDecodeError(
        `length ${length} at offset ${this.#offset} does not fit the remaining ${remaining} bytes`,
      );
      return false;
    }
    this.#rawType = this.#view.getUint16(this.#offset + 2, NATIVE_LITTLE_ENDIAN);
    this.#type = this.#rawType & NLA_TYPE_MASK;
    this.#payload = this.#bytes.subarray(this.#offset + NLA_HDRLEN, this.#offset + length);
    this.#offset += nlaAlign(length);
    return true;
  }

  /** The current attribute's type, flags masked off. */
  get type(): number {
    return this.#type;
  }

  /** True if the current attribute carries NLA_F_NESTED. */
  get markedNested(): boolean {
    return (this.#rawType & NLA_F_NESTED) !== 0;
  }

  /** The first error met, or null. */
  get error(): AttributeDecodeError | null {
    return this.#error;
  }

  /** Records an error found by the caller (e.g. an unexpected value). */
  fail(detail: string): void {
    this.#error ??= new AttributeDecodeError(detail);
  }

  #sized(size: number, what: string): DataView | null {
    if (this.#payload.byteLength !== size) {
      this.fail(
        `attribute ${this.#type} should be a ${what} (${size} bytes), has ${this.#payload.byteLength}`,
      );
      return null;
    }
    return viewOf(this.#payload);
  }

  /** The payload as a u8. */
  uint8(): number {
    return this.#sized(1, "u8")?.getUint8(0) ?? 0;
  }

  /** The payload as a host-order u16. */
  uint16(): number {
    return this.#sized(2, "u16")?.getUint16(0, NATIVE_LITTLE_ENDIAN) ?? 0;
  }

  /** The payload as a host-order u32. */
  uint32(): number {
    return this.#sized(4, "u32")?.getUint32(0, NATIVE_LITTLE_ENDIAN) ?? 0;
  }

  /** The payload as a string, up to the first NUL. */
  string(): string {
    const nul = this.#payload.indexOf(0);
    return decoder.decode(nul >= 0 ? this.#payload.subarray(0, nul) : this.#payload);
  }

  /** The raw payload (a view; copy it to keep it past the datagram). */
  bytes(): Uint8Array {
    return this.#payload;
  }

  /**
   * Decodes the payload as nested attributes with `walk`; an error inside
   * becomes this decoder's error.
   */
  nested(walk: (nested: AttributeDecoder) => void): void {
    const inner = new AttributeDecoder(this.#payload);
    walk(inner);
    if (inner.error !== null) this.#error ??= inner.error;
  }
}
