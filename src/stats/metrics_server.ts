/**
 * The optional metrics port: a minimal HTTP/1.x server on the daemon's own
 * reactor that answers `GET /metrics` with the Prometheus text (and `GET /`
 * with a pointer to it), then closes the connection. It reads at most one
 * request head per connection, keeps at most {@link MAX_CONNECTIONS} open
 * (the oldest goes first), and never blocks the sync path: every socket is
 * non-blocking and a reply that does not fit the socket's buffer waits for
 * it to drain.
 *
 * @module
 */

import { SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET } from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import type { Interest, ReadinessHandler } from "../../ffi/reactor.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { openDualStack } from "../net/dual_stack.ts";
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

/** Connections open at once at most; a new one closes the oldest. */
export const MAX_CONNECTIONS = 16;

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
  /** Open connections, oldest first. */
  readonly #connections = new Map<number, Connection>();
  #closed = false;

  private constructor(
    sockets: Sockets,
    registry: ReadinessRegistry,
    fd: number,
    port: number,
    render: () => string,
  ) {
    this.#sockets = sockets;
    this.#registry = registry;
    this.fd = fd;
    this.port = port;
    this.#render = render;
  }

  /**
   * Listens on `port` (IPv6 and IPv4 on one socket; IPv4 alone on a host
   * without IPv6) and registers with `registry`. Throws SyscallError, e.g.
   * EADDRINUSE.
   */
  static open(
    sockets: Sockets,
    registry: ReadinessRegistry,
    port: number,
    render: () => string,
  ): MetricsServer {
    const { fd, address } = openDualStack(sockets, SOCK_STREAM, port, "metrics");
    try {
      // A restarted daemon must not wait for the old connections' TIME_WAIT.
      sockets.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      sockets.bind(fd, address, `metrics port ${port}`);
      sockets.listen(fd, BACKLOG, `metrics port ${port}`);
    } catch (error) {
      sockets.close(fd, "metrics");
      throw error;
    }
    const server = new MetricsServer(sockets, registry, fd, port, render);
    registry.watch(fd, { readable: true }, () => server.#acceptAll());
    return server;
  }

  /** Connections open now (for tests and stats). */
  get openConnections(): number {
    return this.#connections.size;
  }

  #acceptAll(): void {
    for (;;) {
      const fd = this.#sockets.accept(this.fd, "metrics");
      if (fd === null) return;
      if (this.#connections.size >= MAX_CONNECTIONS) {
        const oldest = this.#connections.keys().next().value;
        if (oldest !== undefined) this.#drop(oldest);
      }
      const connection: Connection = {
        fd,
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
      this.#render,
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
    for (const fd of [...this.#connections.keys()]) this.#drop(fd);
    this.#registry.unwatch(this.fd);
    this.#sockets.close(this.fd, "metrics");
  }
}
