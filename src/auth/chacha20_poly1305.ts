/**
 * ChaCha20-Poly1305 (RFC 8439), the AEAD of sealed datagrams
 * (sealed_datagram.ts), from node:crypto: synchronous, so the peer channel
 * stays synchronous. Not AES-256-GCM: Deno's node:crypto seals with
 * ChaCha20-Poly1305 about 40% faster (its GCM runs at some 140 MB/s here,
 * ChaCha20-Poly1305 at 650; BENCHMARKS.md has what sealing costs the
 * daemon).
 *
 * node:crypto brings Deno's Node compatibility layer, which cost every start
 * of the bundle some 20 ms and 7 MiB, so it is imported here alone, and
 * only when {@link loadChaCha20Poly1305} is called: when a key is
 * configured (src/layers_test.ts holds every other module to that).
 *
 * @module
 */

/** Bytes of a Poly1305 tag. */
export const TAG_BYTES = 16;

/** The AEAD's two operations; every call stands alone. */
export interface Aead {
  /**
   * Writes the ciphertext of `plaintext`, then its {@link TAG_BYTES}-byte
   * tag, into `out` (at least `plaintext.byteLength + TAG_BYTES` bytes).
   */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void;
  /** The plaintext of `ciphertext`, or null if `tag` does not authenticate it and `aad`. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array | null;
}

/** The AEAD, as node:crypto names it. */
const NAME = "chacha20-poly1305";

/** node:crypto's options for the AEAD: its 16-byte tag. */
const OPTIONS = { authTagLength: TAG_BYTES };

/** Loads node:crypto (the first call does; later ones reuse it) and gives the AEAD. */
export async function loadChaCha20Poly1305(): Promise<Aead> {
  const { createCipheriv, createDecipheriv } = await import("node:crypto");
  return {
    seal(key, nonce, aad, plaintext, out) {
      const cipher = createCipheriv(NAME, key, nonce, OPTIONS);
      cipher.setAAD(aad, { plaintextLength: plaintext.byteLength });
      let at = 0;
      const body = cipher.update(plaintext);
      out.set(body, at);
      at += body.byteLength;
      const last = cipher.final();
      out.set(last, at);
      at += last.byteLength;
      out.set(cipher.getAuthTag(), at);
    },
    open(key, nonce, aad, ciphertext, tag) {
      try {
        const decipher = createDecipheriv(NAME, key, nonce, OPTIONS);
        decipher.setAAD(aad, { plaintextLength: ciphertext.byteLength });
        decipher.setAuthTag(tag);
        const body = decipher.update(ciphertext);
        const last = decipher.final();
        const plaintext = last.byteLength === 0 ? body : concat(body, last);
        // A plain Uint8Array, not node's Buffer subclass.
        return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
      } catch {
        return null;
      }
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
