/**
 * The host's byte order, which the C structs ffi/ fills and netlink's
 * headers and attributes share: tested once, here, with the FFI.
 *
 * @module
 */

/** True on little-endian hosts (x86_64, aarch64 as Linux runs it). */
export const NATIVE_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
