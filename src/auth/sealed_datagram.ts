/**
 * Sealed datagrams: what our daemons send to each other when `"auth key
 * file"` is set. ChaCha20-Poly1305 (RFC 8439, chacha20_poly1305.ts: given to
 * the sealer and the opener, loaded only when a key is configured) over the
 * whole payload, session batch or control message alike. Layout, all
 * numbers big-endian:
 *
 * ```
 * offset  size  field
 *      0     2  magic "jA" (0x6a 0x41): not the start of any Jool datagram
 *      2     1  format version, 2
 *      3     1  key id (0-255): which key of the key file sealed it
 *      4     4  sender id: random per daemon start
 *      8     8  counter: strictly increasing per sender; microseconds since
 *               the epoch when sealed (or the previous counter + 1)
 *     16     n  ciphertext of the n payload bytes
 *   16+n    16  Poly1305 tag
 * ```
 *
 * The 12-byte nonce is bytes 4-15 (sender id and counter); the additional
 * authenticated data is the 16-byte header, one byte naming the port it
 * was sealed for ({@link SealedChannel}: 0 sync, 1 control) and the
 * cluster's name (`"auth cluster"`, UTF-8, none by default), so nothing of
 * the header can be changed, nothing sealed for one port opens on the
 * other, and nothing sealed in one cluster opens in another that has the
 * same key. A nonce never repeats for a key: within a run the counter only
 * grows, and a restart picks a new random sender id and starts its counter
 * at the clock, so even a clock set back does not repeat one (unless two
 * starts draw the same 32-bit id and reach the same microsecond).
 *
 * Receivers keep a {@link ReplayWindows} entry per sender id, and refuse
 * counters older than {@link MAX_AGE_US} by their own clock. The windows
 * are empty after a receiver restarts: what keeps datagrams captured before
 * from being accepted then is sender_liveness.ts, which the guarded channel
 * applies after {@link DatagramOpener.open}.
 *
 * @module
 */

import { type Aead, TAG_BYTES } from "./chacha20_poly1305.ts";

/** Bytes before the ciphertext. */
export const SEALED_HEADER_BYTES = 16;
/** Bytes of the tag after the ciphertext. */
export const SEALED_TAG_BYTES = TAG_BYTES;
/** What sealing adds to a datagram. */
export const SEALED_OVERHEAD = SEALED_HEADER_BYTES + SEALED_TAG_BYTES;
/** Bytes of a key: 256 bits. */
export const KEY_BYTES = 32;
/**
 * The first three header bytes: magic "jA" and format version 2. Version 1
 * had the same layout but no proof of liveness (sender_liveness.ts): a
 * version 2 daemon never accepts a version 1 daemon's datagrams, so the
 * versions cannot mix in a cluster.
 */
export const SEALED_MAGIC = Uint8Array.of(0x6a, 0x41, 0x02);
/**
 * Counters older than this by the receiver's clock are refused as replays
 * (10 minutes: the peers' clocks must agree that well).
 */
export const MAX_AGE_US = 600_000_000;

/** The port a datagram is sealed for: bound into the authenticated data. */
export type SealedChannel = "sync" | "control";

/** The AAD: the header, then the channel's byte, then the cluster's name. */
const AAD_FIXED_BYTES = SEALED_HEADER_BYTES + 1;

/** The AAD buffer for `cluster` (its fixed part to be filled in). */
function aadFor(cluster: Uint8Array): Uint8Array {
  const aad = new Uint8Array(AAD_FIXED_BYTES + cluster.byteLength);
  aad.set(cluster, AAD_FIXED_BYTES);
  return aad;
}

/** One key of a key file. */
export interface AuthKey {
  /** 0 to 255; travels in every datagram sealed with it. */
  id: number;
  /** {@link KEY_BYTES} bytes. */
  secret: Uint8Array;
}

/** The keys a node holds: it sends with `current` and accepts every one of `accepted`. */
export interface KeyRing {
  current: AuthKey;
  /** By id; holds `current` too. */
  accepted: ReadonlyMap<number, AuthKey>;
}

/** Why {@link DatagramOpener.open} refused a datagram. */
export type OpenRefusal =
  | { kind: "auth"; problem: string }
  | { kind: "replay"; problem: string };

/** Seals datagrams with the current key, never repeating a nonce. */
export class DatagramSealer {
  readonly #aead: Aead;
  #key: AuthKey;
  /** The header, the channel's byte and the cluster's name: the AAD. */
  readonly #aad: Uint8Array;
  readonly #header: Uint8Array;
  readonly #view: DataView;
  readonly #clockUs: () => number;
  #counter = 0;

  /**
   * @param aead ChaCha20-Poly1305 (chacha20_poly1305.ts loads it).
   * @param senderId This daemon's id (32 bits), random per start.
   * @param clockUs Microseconds since the epoch (default: Date.now() × 1000).
   * @param cluster The cluster's name (UTF-8 bytes; `"auth cluster"`), empty for none.
   */
  constructor(
    aead: Aead,
    key: AuthKey,
    senderId: number,
    clockUs: () => number = () => Date.now() * 1000,
    cluster: Uint8Array = new Uint8Array(0),
  ) {
    this.#aead = aead;
    this.#aad = aadFor(cluster);
    this.#header = this.#aad.subarray(0, SEALED_HEADER_BYTES);
    this.#view = new DataView(this.#aad.buffer);
    this.#key = key;
    this.#clockUs = clockUs;
    this.#header.set(SEALED_MAGIC, 0);
    this.#header[3] = key.id;
    this.#view.setUint32(4, senderId >>> 0);
  }

  /** Seals from now on with `key` (a rotation); the counter goes on. */
  setKey(key: AuthKey): void {
    this.#key = key;
    this.#header[3] = key.id;
  }

  /** The sender id in every datagram sealed here. */
  get senderId(): number {
    return this.#view.getUint32(4);
  }

  /** The payload sealed for `channel`: header, ciphertext, tag (a new array). */
  seal(payload: Uint8Array, channel: SealedChannel = "sync"): Uint8Array {
    this.#counter = Math.max(this.#counter + 1, Math.floor(this.#clockUs()));
    writeCounter(this.#view, this.#counter);
    this.#aad[SEALED_HEADER_BYTES] = channelByte(channel);
    const nonce = this.#header.subarray(4, 16);
    const out = new Uint8Array(SEALED_OVERHEAD + payload.byteLength);
    out.set(this.#header, 0);
    this.#aead.seal(this.#key.secret, nonce, this.#aad, payload, out.subarray(SEALED_HEADER_BYTES));
    return out;
  }
}

/** Opens sealed datagrams with any accepted key and refuses replays. */
export class DatagramOpener {
  readonly #aead: Aead;
  #ring: KeyRing;
  readonly #windows: ReplayWindows;
  readonly #clockUs: () => number;
  readonly #ownSenderId: number | null;
  readonly #aad: Uint8Array;
  readonly #maxPayloadBytes: number;
  /** AEAD attempts so far (what the header alone did not refuse). */
  attempts = 0;
  /** Ciphertext bytes given to the AEAD so far. */
  attemptedBytes = 0;
  /** The sender id of the datagram {@link open} last accepted. */
  lastSenderId = 0;
  /** Its counter. */
  lastCounter = 0;

  /**
   * @param aead ChaCha20-Poly1305 (chacha20_poly1305.ts loads it).
   * @param ownSenderId This daemon's sender id: a datagram bearing it is our
   *   own coming back (a reflection or a replay: we never receive our own
   *   multicast), refused as a replay.
   * @param channel The port it opens for: what was sealed for the other fails.
   * @param maxPayloadBytes Larger datagrams are refused before the AEAD.
   * @param cluster The cluster's name (UTF-8 bytes; `"auth cluster"`), empty for none.
   */
  constructor(
    aead: Aead,
    ring: KeyRing,
    clockUs: () => number = () => Date.now() * 1000,
    ownSenderId: number | null = null,
    channel: SealedChannel = "sync",
    maxPayloadBytes = Infinity,
    cluster: Uint8Array = new Uint8Array(0),
  ) {
    this.#aead = aead;
    this.#aad = aadFor(cluster);
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#aad[SEALED_HEADER_BYTES] = channelByte(channel);
    this.#ring = ring;
    this.#clockUs = clockUs;
    this.#windows = new ReplayWindows();
    this.#ownSenderId = ownSenderId;
  }

  /** Accepts the keys of `ring` from now on (a rotation); the replay windows stay. */
  setRing(ring: KeyRing): void {
    this.#ring = ring;
  }

  /**
   * The payload of `datagram` if it is authentic and new, else why not.
   * A refused datagram leaves the replay windows as they were. What the
   * header alone shows to be wrong (size, age, a counter seen) is refused
   * before the AEAD, and so is what `beforeAttempt` (given the header's
   * sender id) has a problem with.
   */
  open(
    datagram: Uint8Array,
    beforeAttempt: ((senderId: number) => OpenRefusal | null) | null = null,
  ): Uint8Array | OpenRefusal {
    if (datagram.byteLength < SEALED_OVERHEAD) {
      return { kind: "auth", problem: `not sealed (${datagram.byteLength} bytes)` };
    }
    if (datagram[0] !== SEALED_MAGIC[0] || datagram[1] !== SEALED_MAGIC[1]) {
      return { kind: "auth", problem: "not sealed (no authentication header)" };
    }
    if (datagram[2] !== SEALED_MAGIC[2]) {
      return {
        kind: "auth",
        problem: `sealed format version ${datagram[2]}, this daemon reads ${
          SEALED_MAGIC[2]
        } (every node must run the same joold release)`,
      };
    }
    const key = this.#ring.accepted.get(datagram[3]);
    if (key === undefined) return { kind: "auth", problem: `unknown key id ${datagram[3]}` };
    const tagAt = datagram.byteLength - SEALED_TAG_BYTES;
    if (tagAt - SEALED_HEADER_BYTES > this.#maxPayloadBytes) {
      return {
        kind: "auth",
        problem: `too large for this port (${datagram.byteLength} bytes, at most ${
          this.#maxPayloadBytes + SEALED_OVERHEAD
        })`,
      };
    }
    const view = new DataView(datagram.buffer, datagram.byteOffset, SEALED_HEADER_BYTES);
    const senderId = view.getUint32(4);
    const counter = readCounter(view);
    // What the header alone refuses costs no AEAD (a flood of garbage must be cheap).
    const now = this.#clockUs();
    if (counter < now - MAX_AGE_US) {
      const seconds = Math.round((now - counter) / 1e6);
      return {
        kind: "replay",
        problem: `sender ${hexId(senderId)}: counter ${seconds} s old (more than ${
          MAX_AGE_US / 1e6
        } s; are the clocks set?)`,
      };
    }
    if (counter > now + MAX_AGE_US) {
      return {
        kind: "auth",
        problem: `sender ${hexId(senderId)}: counter ${
          Math.round((counter - now) / 1e6)
        } s ahead (more than ${MAX_AGE_US / 1e6} s; are the clocks set?)`,
      };
    }
    if (senderId === this.#ownSenderId) {
      return { kind: "replay", problem: `sender ${hexId(senderId)} is this daemon` };
    }
    if (this.#windows.seen(senderId, counter)) {
      return { kind: "replay", problem: `sender ${hexId(senderId)}: counter ${counter} seen` };
    }
    const refusal = beforeAttempt?.(senderId) ?? null;
    if (refusal !== null) return refusal;
    const header = datagram.subarray(0, SEALED_HEADER_BYTES);
    this.attempts++;
    this.attemptedBytes += tagAt - SEALED_HEADER_BYTES;
    this.#aad.set(header, 0);
    const payload = this.#aead.open(
      key.secret,
      header.subarray(4),
      this.#aad,
      datagram.subarray(SEALED_HEADER_BYTES, tagAt),
      datagram.subarray(tagAt),
    );
    if (payload === null) {
      return { kind: "auth", problem: `bad authentication tag (key id ${key.id})` };
    }
    this.#windows.accept(senderId, counter);
    this.lastSenderId = senderId;
    this.lastCounter = counter;
    return payload;
  }
}

/**
 * Seals and opens a made-up payload under a throwaway key, twice, with
 * `aead` (ChaCha20-Poly1305). node:crypto loads its cipher and V8 compiles
 * the sealing code on first use: under an emulated CPU that could hold a
 * sealed daemon's first batches back for hundreds of ms, longer than Jool
 * 4.1.10 and earlier keep a batch waiting for its ACK. The key is random and the datagrams go
 * nowhere, so no nonce of a real key is spent. Returns whether every round
 * trip gave the payload back.
 */
export function warmUpSealing(aead: Aead, payloadBytes: number): boolean {
  const key: AuthKey = { id: 0, secret: crypto.getRandomValues(new Uint8Array(KEY_BYTES)) };
  const sealer = new DatagramSealer(aead, key, 1);
  const opener = new DatagramOpener(aead, { current: key, accepted: new Map([[key.id, key]]) });
  const payload = new Uint8Array(payloadBytes);
  let intact = true;
  for (let round = 0; round < 2; round++) {
    const opened = opener.open(sealer.seal(payload));
    intact &&= !isRefusal(opened) && opened.byteLength === payloadBytes;
  }
  return intact;
}

/** A sender id as the logs show it: 8 hex digits. */
export function hexId(senderId: number): string {
  return senderId.toString(16).padStart(8, "0");
}

/** Whether an {@link DatagramOpener.open} result is a refusal. */
export function isRefusal(result: Uint8Array | OpenRefusal): result is OpenRefusal {
  return !(result instanceof Uint8Array);
}

/** Counters accepted out of order per sender (datagrams reordered on the way). */
export const REPLAY_WINDOW = 64;
/** Senders remembered; the one seen least recently makes room. */
export const MAX_SENDERS = 256;

/**
 * The replay windows of every sender: per sender, the highest counter and
 * the {@link REPLAY_WINDOW} latest accepted counters. A counter above the
 * highest is new; one below it is new only if it is above the oldest
 * remembered and not remembered.
 */
export class ReplayWindows {
  /** Map order is use order: the first entry was seen least recently. */
  readonly #senders = new Map<number, number[]>();

  /** Whether {@link accept} would refuse `counter` of `senderId`; records nothing. */
  seen(senderId: number, counter: number): boolean {
    const seen = this.#senders.get(senderId);
    if (seen === undefined || seen.length === 0) return false;
    if (counter > seen[seen.length - 1]) return false;
    return (seen.length >= REPLAY_WINDOW && counter < seen[0]) || seen.includes(counter);
  }

  /** Records `counter` for `senderId`; false if it is a replay (nothing recorded). */
  accept(senderId: number, counter: number): boolean {
    let seen = this.#senders.get(senderId);
    if (seen === undefined) {
      if (this.#senders.size >= MAX_SENDERS) {
        this.#senders.delete(this.#senders.keys().next().value!);
      }
      seen = [];
    } else {
      this.#senders.delete(senderId);
    }
    this.#senders.set(senderId, seen);
    const highest = seen.length === 0 ? -1 : seen[seen.length - 1];
    if (counter <= highest) {
      if (seen.length >= REPLAY_WINDOW && counter < seen[0]) return false;
      if (seen.includes(counter)) return false;
      seen.splice(seen.findIndex((value) => value > counter), 0, counter);
    } else {
      seen.push(counter);
    }
    if (seen.length > REPLAY_WINDOW) seen.shift();
    return true;
  }
}

function channelByte(channel: SealedChannel): number {
  return channel === "sync" ? 0 : 1;
}

/** The counter fits a double exactly until 2^53 µs (year 2255). */
function writeCounter(view: DataView, counter: number): void {
  view.setUint32(8, Math.floor(counter / 2 ** 32));
  view.setUint32(12, counter >>> 0);
}

function readCounter(view: DataView): number {
  return view.getUint32(8) * 2 ** 32 + view.getUint32(12);
}
