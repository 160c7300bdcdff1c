/**
 * Netlink headers and attributes are in the host's byte order, as are the
 * C structs ffi/ fills: the one test of that order, for both. It stays a
 * dependency-free leaf so that ffi/ can import it without reaching into
 * the rest of src/.
 *
 * @module
 */

/** True on little-endian hosts (x86_64, aarch64 as Linux runs it). */
export const NATIVE_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
