/**
 * Reading netlink attributes: a cursor that walks them without allocating
 * (the one walk used by the decoder below, the session codecs and the batch
 * splitter), and a decoder on it that keeps the first error it meets.
 *
 * @module
 */

import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from "./attribute.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";

const decoder = new TextDecoder();

/** The cursor's own view of its fields, which the public one makes read-only. */
type CursorState = {
  -readonly [K in "offset" | "length" | "type" | "end" | "malformed"]: AttributeCursor[K];
};

/** `cursor`, seen through the type that may write its fields. */
function writable(cursor: AttributeCursor): CursorState {
  return cursor;
}

/**
 * Walks the attributes in `bytes[start, end)`, reading headers in place:
 *
 * ```ts
 * const cursor = new AttributeCursor(bytes);
 * while (cursor.next()) {
 *   if (cursor.type === CODE) code = cursor.payload();
 * }
 * if (cursor.malformed) return `bad attribute at offset ${cursor.offset}`;
 * ```
 *
 * It stops at the first header that does not fit and says where, leaving
 * the wording to the caller. The session checks run it on every datagram,
 * hence its shape: nothing is allocated per attribute ({@link over} and
 * {@link within} reuse a cursor), and what they read per attribute
 * (offset, length, type) is in plain fields, cheaper than getters on this
 * path; the getters are for colder code. Offsets are into `bytes`.
 */
export class AttributeCursor {
  /** Where the current attribute starts; once the walk has stopped, where it stopped. */
  readonly offset: number = 0;
  /**
   * The current attribute's nla_len (header and payload, no padding). At a
   * malformed stop, the length found there: 0 if not even a header fitted.
   */
  readonly length: number = 0;
  /** The current attribute's type, flags masked off. */
  readonly type: number = 0;
  /** Where the run ends. */
  readonly end: number = 0;
  /** True if the walk stopped at a header that does not fit. */
  readonly malformed: boolean = false;
  #bytes: Uint8Array;
  #rawType = 0;

  constructor(bytes: Uint8Array = new Uint8Array(0), start = 0, end: number = bytes.byteLength) {
    this.#bytes = bytes;
    this.over(bytes, start, end);
  }

  /** Starts over on `bytes[start, end)`. */
  over(bytes: Uint8Array, start = 0, end: number = bytes.byteLength): this {
    const state = writable(this);
    this.#bytes = bytes;
    state.offset = start;
    state.length = 0;
    state.type = 0;
    state.end = end;
    state.malformed = false;
    this.#rawType = 0;
    return this;
  }

  /** Starts over on the payload of `outer`'s current attribute. */
  within(outer: AttributeCursor): this {
    return this.over(outer.#bytes, outer.offset + NLA_HDRLEN, outer.offset + outer.length);
  }

  /**
   * Moves to the next attribute. False at the end of the run, or at a
   * header that does not fit ({@link malformed}).
   */
  next(): boolean {
    if (this.malformed) return false;
    const state = writable(this);
    const bytes = this.#bytes;
    // Past the current attribute (nothing before the first): the last
    // attribute of a run may lack its padding, hence the clamp.
    const end = this.end;
    const aligned = this.offset + nlaAlign(this.length);
    const offset = aligned < end ? aligned : end;
    const remaining = end - offset;
    state.offset = offset;
    if (remaining === 0) {
      state.length = 0;
      return false;
    }
    // Read in place rather than through a helper: this runs per attribute.
    const length = remaining < NLA_HDRLEN
      ? 0
      : NATIVE_LITTLE_ENDIAN
      ? bytes[offset] | (bytes[offset + 1] << 8)
      : (bytes[offset] << 8) | bytes[offset + 1];
    state.length = length;
    if (length < NLA_HDRLEN || length > remaining) {
      state.malformed = true;
      return false;
    }
    const rawType = NATIVE_LITTLE_ENDIAN
      ? bytes[offset + 2] | (bytes[offset + 3] << 8)
      : (bytes[offset + 2] << 8) | bytes[offset + 3];
    this.#rawType = rawType;
    state.type = rawType & NLA_TYPE_MASK;
    return true;
  }

  /** Bytes from {@link offset} to the end of the run. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** True if the current attribute carries NLA_F_NESTED. */
  get markedNested(): boolean {
    return (this.#rawType & NLA_F_NESTED) !== 0;
  }

  /** Where the next attribute starts: past the current one and its padding. */
  get nextOffset(): number {
    return Math.min(this.offset + nlaAlign(this.length), this.end);
  }

  /** Where the current attribute's payload starts. */
  get payloadStart(): number {
    return this.offset + NLA_HDRLEN;
  }

  /** Where the current attribute's payload ends. */
  get payloadEnd(): number {
    return this.offset + this.length;
  }

  /** The current attribute's payload size. */
  get payloadLength(): number {
    return this.length - NLA_HDRLEN;
  }

  /** The current payload (a view). */
  payload(): Uint8Array {
    return this.#bytes.subarray(this.offset + NLA_HDRLEN, this.offset + this.length);
  }

  /** The current attribute, header included (a view). */
  attribute(): Uint8Array {
    return this.#bytes.subarray(this.offset, this.offset + this.length);
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

  /** The whole current attribute, header included (a view, as {@link bytes}). */
  attribute(): Uint8Array {
    return this.#cursor.attribute();
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
