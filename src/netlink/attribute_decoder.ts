/**
 * Reading netlink attributes: a cursor that walks them without allocating
 * (the one walk used by the decoder below, the session codecs and the batch
 * splitter), and a decoder on it that keeps the first error it meets.
 *
 * @module
 */

import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from "./attribute.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "./native_endian.ts";

const decoder = new TextDecoder();

/**
 * Walks the attributes in `bytes[start, end)`, reading headers in place:
 *
 * ```ts
 * const cursor = new AttributeCursor(bytes);
 * while (cursor.next()) {
 *   if (cursor.type === CODE && cursor.payloadLength === 2) code = cursor.uint16();
 * }
 * if (cursor.malformed) return `bad attribute at offset ${cursor.offset}`;
 * ```
 *
 * It stops at the first header that does not fit and says where, leaving
 * the wording to the caller. Nothing is allocated per attribute, and
 * {@link within} walks a nested run with a cursor made once, because the
 * session checks run on every datagram. Offsets are into `bytes`.
 */
export class AttributeCursor {
  #bytes: Uint8Array;
  #view: DataView;
  #end = 0;
  #next = 0;
  #offset = 0;
  #length = 0;
  #rawType = 0;
  #malformed = false;

  constructor(bytes: Uint8Array, start = 0, end: number = bytes.byteLength) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
    this.reset(start, end);
  }

  /** Starts over on `bytes[start, end)` of the same buffer. */
  reset(start: number, end: number): this {
    this.#end = end;
    this.#next = start;
    this.#offset = start;
    this.#length = 0;
    this.#rawType = 0;
    this.#malformed = false;
    return this;
  }

  /** Starts over on the payload of `outer`'s current attribute. */
  within(outer: AttributeCursor): this {
    this.#bytes = outer.#bytes;
    this.#view = outer.#view;
    return this.reset(outer.payloadStart, outer.payloadEnd);
  }

  /**
   * Moves to the next attribute. False at the end of the run, or at a
   * header that does not fit ({@link malformed}; {@link offset} is then
   * where it starts, {@link length} its nla_len, 0 if fewer than
   * NLA_HDRLEN bytes were left).
   */
  next(): boolean {
    const offset = this.#next;
    const remaining = this.#end - offset;
    this.#offset = offset;
    if (remaining <= 0) return false;
    if (remaining < NLA_HDRLEN) {
      this.#length = 0;
      this.#malformed = true;
      return false;
    }
    const length = this.#view.getUint16(offset, NATIVE_LITTLE_ENDIAN);
    this.#length = length;
    if (length < NLA_HDRLEN || length > remaining) {
      this.#malformed = true;
      return false;
    }
    this.#rawType = this.#view.getUint16(offset + 2, NATIVE_LITTLE_ENDIAN);
    // The last attribute of a run may lack its padding.
    this.#next = Math.min(offset + nlaAlign(length), this.#end);
    return true;
  }

  /** True if the walk stopped at a header that does not fit. */
  get malformed(): boolean {
    return this.#malformed;
  }

  /** Where the current attribute starts (where the walk stopped, after it has). */
  get offset(): number {
    return this.#offset;
  }

  /** The current attribute's nla_len: header and payload, without padding. */
  get length(): number {
    return this.#length;
  }

  /** Bytes from {@link offset} to the end of the run. */
  get remaining(): number {
    return this.#end - this.#offset;
  }

  /** Where the next attribute starts: the current one's end, padding included. */
  get end(): number {
    return this.#next;
  }

  /** The current attribute's type, flags masked off. */
  get type(): number {
    return this.#rawType & NLA_TYPE_MASK;
  }

  /** True if the current attribute carries NLA_F_NESTED. */
  get markedNested(): boolean {
    return (this.#rawType & NLA_F_NESTED) !== 0;
  }

  /** Where the current attribute's payload starts. */
  get payloadStart(): number {
    return this.#offset + NLA_HDRLEN;
  }

  /** Where the current attribute's payload ends. */
  get payloadEnd(): number {
    return this.#offset + this.#length;
  }

  /** The current attribute's payload size. */
  get payloadLength(): number {
    return this.#length - NLA_HDRLEN;
  }

  /** The current payload (a view). */
  payload(): Uint8Array {
    return this.#bytes.subarray(this.payloadStart, this.payloadEnd);
  }

  /** The payload's first byte; check {@link payloadLength} first. */
  uint8(): number {
    return this.#bytes[this.payloadStart];
  }

  /** The payload's first two bytes, host order; check {@link payloadLength} first. */
  uint16(): number {
    return this.#view.getUint16(this.payloadStart, NATIVE_LITTLE_ENDIAN);
  }

  /** The payload's first four bytes, host order; check {@link payloadLength} first. */
  uint32(): number {
    return this.#view.getUint32(this.payloadStart, NATIVE_LITTLE_ENDIAN);
  }

  /**
   * A view over the whole buffer, for payloads with a fixed layout of their
   * own (offsets into `bytes`, as {@link payloadStart}).
   */
  get view(): DataView {
    return this.#view;
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
  readonly #cursor: AttributeCursor;
  #payload: Uint8Array = new Uint8Array(0);
  #error: AttributeDecodeError | null = null;

  constructor(bytes: Uint8Array) {
    this.#cursor = new AttributeCursor(bytes);
  }

  /** Moves to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.#error !== null) return false;
    const cursor = this.#cursor;
    if (cursor.next()) {
      this.#payload = cursor.payload();
      return true;
    }
    if (cursor.malformed) {
      this.#error = new AttributeDecodeError(
        cursor.remaining < NLA_HDRLEN
          ? `${cursor.remaining} trailing bytes at offset ${cursor.offset}`
          : `length ${cursor.length} at offset ${cursor.offset} does not fit the remaining ${cursor.remaining} bytes`,
      );
    }
    return false;
  }

  /** The current attribute's type, flags masked off. */
  get type(): number {
    return this.#cursor.type;
  }

  /** True if the current attribute carries NLA_F_NESTED. */
  get markedNested(): boolean {
    return this.#cursor.markedNested;
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
        `attribute ${this.type} should be a ${what} (${size} bytes), has ${this.#payload.byteLength}`,
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
