/**
 * The optional metrics port: a minimal HTTP/1.x server on the daemon's own
 * reactor that answers `GET /metrics` with the Prometheus text (and `GET /`
 * with a pointer to it), then closes the connection. It reads at most one
 * request head per connection and never blocks the sync path: every socket
 * is non-blocking and a reply that does not fit the socket's buffer waits
 * for it to drain.
 *
 * The port may face hostile clients, so everything is bounded: at most
 * {@link MAX_CONNECTIONS} connections (when full, what the connections hold
 * is read first, so a scrape whose request is there is answered, not
 * pushed out; then a new one pushes out a connection with no whole request
 * yet: the oldest of the host that opened the most connections lately
 * ({@link CONNECTION_RATE_HALF_LIFE_MS}), so neither one flooding host nor
 * many hosts flooding a little each push out a scraper's connection),
 * {@link MAX_ACCEPTS_PER_WAKE} accepted per
 * wake-up, a request head within {@link HEAD_DEADLINE_MS} and the answer
 * sent within {@link ANSWER_DEADLINE_MS} of connecting (with timers: see
 * {@link MetricsServer.open}), and the metrics rendered at most once per
 * {@link RENDER_CACHE_MS} however many ask.
 *
 * @module
 */

import { AF_INET, AF_INET6, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET } from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import type { Interest, ReadinessHandler } from "../../ffi/reactor.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { openDualStack } from "../net/dual_stack.ts";
import { sockaddrHost } from "../net/sockaddr_host.ts";
import { parseIPv6 } from "../net/ip.ts";
import { SOCKADDR_STORAGE_SIZE, sockaddrIn, sockaddrIn6 } from "../../ffi/sockaddr.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** What the server registers its sockets with (the daemon's reactor). */
export interface ReadinessRegistry {
  watch(fd: number, interest: Interest, handler: ReadinessHandler): void;
  modify(fd: number, interest: Interest): void;
  unwatch(fd: number): void;
}

/** A response: status line text, content type, body. */
export interface HttpResponse {
  status: number;
  reason: string;
  contentType: string;
  body: string;
  /**
   * An answer to HEAD: the headers GET would get, Content-Length included
   * (RFC 9110, section 9.3.2), and no body.
   */
  headOnly?: boolean;
}

/** Connections open at once at most; see the module's doc for which one a new one replaces. */
export const MAX_CONNECTIONS = 16;

/** Connections accepted per wake-up at most: the rest wait in the backlog. */
export const MAX_ACCEPTS_PER_WAKE = 16;

/** A connection must have sent its request head this long after it was accepted. */
export const HEAD_DEADLINE_MS = 2_000;

/** A connection must have taken its whole answer this long after it was accepted. */
export const ANSWER_DEADLINE_MS = 10_000;

/** How long one rendering of the metrics serves every request. */
export const RENDER_CACHE_MS = 1_000;

/** The timers the deadlines need (the daemon's clock); without them, no deadlines. */
export interface MetricsTimers {
  /** Milliseconds, monotonic. */
  monotonic(): number;
  repeat(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Hosts' recent connections are counted with this half-life, to pick whom to push out. */
export const CONNECTION_RATE_HALF_LIFE_MS = 10_000;

/** Hosts whose recent connections are remembered; the least recent makes room. */
const MAX_RATED_HOSTS = 1024;

/** The longest request head read; longer ones get 431. */
const MAX_REQUEST_HEAD = 4096;

const BACKLOG = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What to answer to a request head (`bytes` up to and including the blank
 * line), or null if the head is not complete yet. Pure: the routing and
 * status codes, for `render` (the Prometheus text) and everything else.
 */
export function answerRequest(bytes: Uint8Array, render: () => string): HttpResponse | null {
  const text = decoder.decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  const endBare = text.indexOf("\n\n");
  if (end < 0 && endBare < 0) {
    if (bytes.byteLength >= MAX_REQUEST_HEAD) {
      return plain(431, "Request Header Fields Too Large", "Request head too large.\n");
    }
    return null;
  }
  const requestLine = text.slice(0, text.search(/\r?\n/));
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  if (match === null) return plain(400, "Bad Request", "Not an HTTP/1.x request.\n");
  const [, method, target] = match;
  if (method !== "GET" && method !== "HEAD") {
    return plain(405, "Method Not Allowed", "Only GET and HEAD.\n");
  }
  const response = route(target.split("?")[0], render);
  if (method === "HEAD") response.headOnly = true;
  return response;
}

function route(path: string, render: () => string): HttpResponse {
  if (path === "/metrics") {
    return {
      status: 200,
      reason: "OK",
      contentType: PROMETHEUS_CONTENT_TYPE,
      body: render(),
    };
  }
  if (path === "/") return plain(200, "OK", "joold: metrics at /metrics\n");
  return plain(404, "Not Found", "Not found: the metrics are at /metrics.\n");
}

function plain(status: number, reason: string, body: string): HttpResponse {
  return { status, reason, contentType: "text/plain; charset=utf-8", body };
}

/**
 * The response's bytes: status line, headers (the connection closes after
 * it), and the body unless the response answers HEAD.
 */
export function encodeResponse(response: HttpResponse): Uint8Array {
  const body = encoder.encode(response.body);
  const head = `HTTP/1.1 ${response.status} ${response.reason}\r\n` +
    `Content-Type: ${response.contentType}\r\n` +
    `Content-Length: ${body.byteLength}\r\n` +
    "Connection: close\r\n\r\n";
  const headBytes = encoder.encode(head);
  if (response.headOnly) return headBytes;
  const bytes = new Uint8Array(headBytes.byteLength + body.byteLength);
  bytes.set(headBytes);
  bytes.set(body, headBytes.byteLength);
  return bytes;
}

interface Connection {
  fd: number;
  /** The client's host (its address without the port). */
  host: string;
  /** When it was accepted (MetricsTimers.monotonic), for the deadlines. */
  acceptedMs: number;
  request: Uint8Array;
  received: number;
  /** The reply still to send, once there is one. */
  reply: Uint8Array | null;
}

/** An HTTP endpoint for Prometheus on `port` of every local address. */
export class MetricsServer {
  readonly fd: number;
  readonly port: number;
  readonly #sockets: Sockets;
  readonly #registry: ReadinessRegistry;
  readonly #render: () => string;
  readonly #timers: MetricsTimers | null;
  readonly #sweeper: unknown = null;
  /** Open connections, oldest first. */
  readonly #connections = new Map<number, Connection>();
  readonly #peer = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  /** Per host, its recent connections (decaying) and when that was updated. */
  readonly #rates = new Map<string, { score: number; atMs: number }>();
  #rendered: { text: string; atMs: number } | null = null;
  #closed = false;

  private constructor(
    sockets: Sockets,
    registry: ReadinessRegistry,
    fd: number,
    port: number,
    render: () => string,
    timers: MetricsTimers | null,
  ) {
    this.#sockets = sockets;
    this.#registry = registry;
    this.fd = fd;
    this.port = port;
    this.#render = render;
    this.#timers = timers;
    if (timers !== null) {
      this.#sweeper = timers.repeat(() => this.#sweep(), Math.min(HEAD_DEADLINE_MS, 1000));
    }
  }

  /**
   * Listens on `port` (IPv6 and IPv4 on one socket; IPv4 alone on a host
   * without IPv6), or on `port` of `local` only, and registers with
   * `registry`. With `timers`, slow connections are closed at their
   * deadlines. Throws SyscallError, e.g. EADDRINUSE.
   */
  static open(
    sockets: Sockets,
    registry: ReadinessRegistry,
    port: number,
    render: () => string,
    timers: MetricsTimers | null = null,
    local: Uint8Array | null = null,
  ): MetricsServer {
    const { fd, address } = local === null
      ? openDualStack(sockets, SOCK_STREAM, port, "metrics")
      : {
        fd: sockets.open(local.byteLength === 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0, "metrics"),
        address: local.byteLength === 4 ? sockaddrIn(local, port) : sockaddrIn6(local, port),
      };
    try {
      // A restarted daemon must not wait for the old connections' TIME_WAIT.
      sockets.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      sockets.bind(fd, address, `metrics port ${port}`);
      sockets.listen(fd, BACKLOG, `metrics port ${port}`);
    } catch (error) {
      sockets.close(fd, "metrics");
      throw error;
    }
    const server = new MetricsServer(sockets, registry, fd, port, render, timers);
    registry.watch(fd, { readable: true }, () => server.#acceptAll());
    return server;
  }

  /** Connections open now (for tests and stats). */
  get openConnections(): number {
    return this.#connections.size;
  }

  #acceptAll(): void {
    for (let i = 0; i < MAX_ACCEPTS_PER_WAKE; i++) {
      this.#peer.fill(0);
      const fd = this.#sockets.accept(this.fd, "metrics", this.#peer);
      if (fd === null) return;
      const host = sockaddrHost(this.#peer, this.#peer.byteLength);
      this.#rate(host, 1);
      if (this.#connections.size >= MAX_CONNECTIONS) this.#makeRoom();
      const connection: Connection = {
        fd,
        host,
        acceptedMs: this.#timers?.monotonic() ?? 0,
        request: new Uint8Array(MAX_REQUEST_HEAD),
        received: 0,
        reply: null,
      };
      this.#connections.set(fd, connection);
      this.#registry.watch(fd, { readable: true }, () => this.#onReady(connection));
    }
  }

  #onReady(connection: Connection): void {
    try {
      if (connection.reply === null) this.#read(connection);
      if (connection.reply !== null) this.#write(connection);
    } catch (error) {
      // A client that went away (ECONNRESET, EPIPE) costs it its connection only.
      if (!(error instanceof SyscallError)) throw error;
      this.#drop(connection.fd);
    }
  }

  #read(connection: Connection): void {
    const free = connection.request.subarray(connection.received);
    const got = this.#sockets.receive(connection.fd, free, null, 0, "metrics connection");
    if (got === null) return;
    if (got.length === 0) {
      this.#drop(connection.fd); // closed before a whole request
      return;
    }
    connection.received += got.length;
    const response = answerRequest(
      connection.request.subarray(0, connection.received),
      () => this.#cachedRender(),
    );
    if (response === null) return;
    connection.reply = encodeResponse(response);
    this.#registry.modify(connection.fd, { readable: false, writable: true });
  }

  #write(connection: Connection): void {
    const reply = connection.reply!;
    const sent = this.#sockets.send(connection.fd, reply, null, "metrics connection");
    if (sent === null) return;
    connection.reply = reply.subarray(sent);
    if (connection.reply.byteLength === 0) this.#drop(connection.fd);
  }

  /** The metrics text, rendered at most once per RENDER_CACHE_MS. */
  #cachedRender(): string {
    const now = this.#timers?.monotonic() ?? performance.now();
    if (this.#rendered === null || now - this.#rendered.atMs >= RENDER_CACHE_MS) {
      this.#rendered = { text: this.#render(), atMs: now };
    }
    return this.#rendered.text;
  }

  /** Makes room for a new connection (see the module doc). */
  #makeRoom(): void {
    // A request already in a socket buffer is answered now (and its connection then closed).
    for (const c of [...this.#connections.values()]) if (c.reply === null) this.#onReady(c);
    if (this.#connections.size >= MAX_CONNECTIONS) this.#drop(this.#evictable());
  }

  /**
   * `host`'s recent connections after adding `count`, decayed to now. IPv6
   * hosts count by /64: one holder of a prefix has as many addresses as it likes.
   */
  #rate(host: string, count: number): number {
    const v6 = host.startsWith("::ffff:") ? null : parseIPv6(host);
    const key = v6 === null ? host : v6.subarray(0, 8).join(".");
    return this.#rateKey(key, count);
  }

  #rateKey(host: string, count: number): number {
    const now = this.#timers?.monotonic() ?? performance.now();
    const known = this.#rates.get(host);
    const decayed = known === undefined
      ? 0
      : known.score * 0.5 ** ((now - known.atMs) / CONNECTION_RATE_HALF_LIFE_MS);
    this.#rates.delete(host);
    this.#rates.set(host, { score: decayed + count, atMs: now });
    if (this.#rates.size > MAX_RATED_HOSTS) this.#rates.delete(this.#rates.keys().next().value!);
    return decayed + count;
  }

  /**
   * The connection to close for a new one: of those without a whole request
   * (all, if none), the oldest of the host that opened the most lately.
   */
  #evictable(): number {
    const waiting = [...this.#connections.values()].filter((c) => c.reply === null);
    const candidates = waiting.length > 0 ? waiting : [...this.#connections.values()];
    const scores = new Map<string, number>();
    for (const c of candidates) if (!scores.has(c.host)) scores.set(c.host, this.#rate(c.host, 0));
    // Candidates are oldest first: the first of the busiest host is the one to close
    // (a host counts as busier by one connection at least, not by a fresher decay).
    let chosen = candidates[0];
    for (const c of candidates) if (scores.get(c.host)! >= scores.get(chosen.host)! + 1) chosen = c;
    return chosen.fd;
  }

  /** Closes the connections past their deadlines. */
  #sweep(): void {
    const now = this.#timers!.monotonic();
    for (const c of [...this.#connections.values()]) {
      const deadline = c.reply === null ? HEAD_DEADLINE_MS : ANSWER_DEADLINE_MS;
      if (now - c.acceptedMs >= deadline) this.#drop(c.fd);
    }
  }

  #drop(fd: number): void {
    if (!this.#connections.delete(fd)) return;
    this.#registry.unwatch(fd);
    try {
      this.#sockets.close(fd, "metrics connection");
    } catch {
      // The descriptor is released either way.
    }
  }

  /** Closes every connection and the listening socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== null) this.#timers!.clearTimer(this.#sweeper);
    for (const fd of [...this.#connections.keys()]) this.#drop(fd);
    this.#registry.unwatch(this.fd);
    this.#sockets.close(this.fd, "metrics");
  }
}
