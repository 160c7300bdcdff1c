/**
 * The readiness reactor: one epoll instance over every socket, plus an
 * eventfd that wakes it to stop.
 *
 * When idle, `epoll_wait` runs on Deno's worker pool, so the event loop
 * (timers, signal listeners) keeps turning; everything a handler does is
 * synchronous on the main thread. That keeps errno readable, uses a single
 * pool thread however many sockets there are, and lets `stop()` wake the
 * waiter (close() would not). While events keep coming, the reactor waits
 * for the next ones on the main thread instead, for a few milliseconds at a
 * time: handing a wait to a worker thread and back costs more than handling
 * the event. Measured in the benchmark's TCG VM (BENCHMARKS.md): a
 * nonblocking FFI call costs about 390 us of CPU, a synchronous one about
 * 2 us; a socket receiving a datagram per millisecond cost 860 us of CPU per
 * datagram with every wait on the worker pool, 360 us with this. A handler
 * that settled a promise (a reply to a request) says so with
 * {@link Reactor.yieldAfterDispatch}: the code awaiting it runs only from
 * the event loop, and waiting on the main thread would hold it, and its
 * next request, for the whole wait.
 *
 * @module
 */

import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
} from "./constants.ts";
import { SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";
import { NATIVE_LITTLE_ENDIAN } from "./native_endian.ts";

/**
 * struct epoll_event { uint32_t events; epoll_data_t data; }
 *
 * glibc declares it `__EPOLL_PACKED` on x86_64 only: 12 bytes with data at
 * offset 4 there, 16 bytes with data at offset 8 elsewhere (aarch64).
 */
const EVENT_PACKED = Deno.build.arch === "x86_64";
const EVENT_SIZE = EVENT_PACKED ? 12 : 16;
const EVENT_DATA_OFFSET = EVENT_PACKED ? 4 : 8;

/** The most events one epoll_wait returns. */
const MAX_EVENTS = 64;

/**
 * While busy, how long one synchronous wait may block the event loop. If no
 * event comes in that time the reactor goes back to waiting on the worker
 * pool.
 */
const BUSY_WAIT_MS = 10;

/**
 * While busy, how often the reactor still returns to the event loop, so
 * that timers and signal listeners run under sustained load too.
 */
const BUSY_TURN_MS = 50;

/** Consecutive epoll_wait failures tolerated before the reactor gives up. */
const MAX_WAIT_FAILURES = 100;

/** Which readiness a watcher wants. */
export interface Interest {
  readable: boolean;
  writable?: boolean;
}

/** What epoll reported for one descriptor. */
export interface Readiness {
  readable: boolean;
  writable: boolean;
  /** EPOLLERR or EPOLLHUP: the handler should read to learn the error. */
  failed: boolean;
}

/** Called with the descriptor's readiness; must not block. */
export type ReadinessHandler = (readiness: Readiness) => void;

/** Receives exceptions thrown by handlers; the reactor keeps running. */
export type HandlerErrorSink = (fd: number, error: unknown) => void;

function encodeEvent(interest: Interest, fd: number): Uint8Array {
  const bytes = new Uint8Array(EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  const events = (interest.readable ? EPOLLIN : 0) | (interest.writable ? EPOLLOUT : 0);
  view.setUint32(0, events, NATIVE_LITTLE_ENDIAN);
  view.setUint32(EVENT_DATA_OFFSET, fd, NATIVE_LITTLE_ENDIAN);
  return bytes;
}

/**
 * A level-triggered epoll loop. Register descriptors with {@link watch},
 * then `await run()`; {@link stop} (safe from a signal listener) makes
 * `run()` return after the current dispatch.
 */
export class Reactor {
  readonly #libc: Libc;
  readonly #epollFd: number;
  readonly #wakeFd: number;
  readonly #handlers = new Map<number, ReadinessHandler>();
  readonly #onHandlerError: HandlerErrorSink;
  // Kept as a field: the worker thread writes into it while run() awaits.
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventsView = new DataView(this.#events.buffer);
  readonly #wakeValue = new BigUint64Array([1n]);
  readonly #drain = new Uint8Array(8);
  #stopping = false;
  #yieldRequested = false;
  #running = false;
  #closed = false;

  private constructor(libc: Libc, epollFd: number, wakeFd: number, onError: HandlerErrorSink) {
    this.#libc = libc;
    this.#epollFd = epollFd;
    this.#wakeFd = wakeFd;
    this.#onHandlerError = onError;
  }

  /** Creates the epoll instance and its wake-up eventfd. */
  static open(libc: Libc, onHandlerError: HandlerErrorSink): Reactor {
    const fail = (operation: string): never => {
      const errno = libc.errno();
      throw new SyscallError(operation, errno, libc.strerror(errno));
    };
    const epollFd = libc.symbols.epoll_create1(EPOLL_CLOEXEC);
    if (epollFd < 0) fail("epoll_create1");
    const wakeFd = libc.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) {
      libc.symbols.close(epollFd);
      fail("eventfd");
    }
    const reactor = new Reactor(libc, epollFd, wakeFd, onHandlerError);
    reactor.#control(EPOLL_CTL_ADD, wakeFd, { readable: true }, "epoll_ctl(ADD eventfd)");
    return reactor;
  }

  #control(op: number, fd: number, interest: Interest, operation: string): void {
    if (this.#libc.symbols.epoll_ctl(this.#epollFd, op, fd, encodeEvent(interest, fd)) !== 0) {
      const errno = this.#libc.errno();
      throw new SyscallError(operation, errno, this.#libc.strerror(errno));
    }
  }

  /** Starts delivering readiness of `fd` to `handler`. */
  watch(fd: number, interest: Interest, handler: ReadinessHandler): void {
    this.#control(EPOLL_CTL_ADD, fd, interest, `epoll_ctl(ADD ${fd})`);
    this.#handlers.set(fd, handler);
  }

  /** Changes which readiness `fd` is watched for. */
  modify(fd: number, interest: Interest): void {
    this.#control(EPOLL_CTL_MOD, fd, interest, `epoll_ctl(MOD ${fd})`);
  }

  /** Stops watching `fd`. Call before closing it. */
  unwatch(fd: number): void {
    if (!this.#handlers.delete(fd)) return;
    this.#control(EPOLL_CTL_DEL, fd, { readable: false }, `epoll_ctl(DEL ${fd})`);
  }

  /**
   * Called by a handler that settled a promise someone awaits: after this
   * dispatch the reactor goes back to the event loop, where that code runs,
   * instead of waiting for more events on the main thread.
   */
  yieldAfterDispatch(): void {
    this.#yieldRequested = true;
  }

  /**
   * Hands `error` to the error sink as a failure of `fd`'s handler: for a
   * read of `fd` done outside a dispatch, whose failures must go where the
   * handler's go.
   */
  reportHandlerError(fd: number, error: unknown): void {
    this.#onHandlerError(fd, error);
  }

  /** True between the start of {@link run} and its return. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Waits for readiness and dispatches it until {@link stop}. Handler
   * exceptions go to the error sink; they do not end the loop.
   */
  async run(): Promise<void> {
    if (this.#running) throw new Error("Reactor is already running");
    this.#running = true;
    let failures = 0;
    try {
      while (!this.#stopping) {
        const count = await this.#libc.symbols.epoll_wait_blocking(
          this.#epollFd,
          this.#events,
          MAX_EVENTS,
          -1,
        );
        if (count < 0) {
          // errno belongs to the worker thread; EINTR is the usual cause.
          if (++failures >= MAX_WAIT_FAILURES) {
            throw new Error(`epoll_wait failed ${failures} times in a row`);
          }
          continue;
        }
        failures = 0;
        if (this.#dispatch(count)) continue;
        await this.#whileBusy();
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * Waits for events synchronously (no worker hand-off) as long as they come
   * within BUSY_WAIT_MS of each other, for at most BUSY_TURN_MS. A failed
   * wait (EINTR: a signal) also ends it, so that the signal's listener runs.
   */
  async #whileBusy(): Promise<void> {
    const turnEnds = performance.now() + BUSY_TURN_MS;
    while (!this.#stopping) {
      const count = this.#libc.symbols.epoll_wait(
        this.#epollFd,
        this.#events,
        MAX_EVENTS,
        BUSY_WAIT_MS,
      );
      if (count <= 0) return;
      if (this.#dispatch(count)) return;
      // The handlers' first promise continuations run now; a yield lets them all run.
      await null;
      if (performance.now() >= turnEnds) return;
    }
  }

  /** Runs the handlers of `count` events; true if one asked to yield to the event loop. */
  #dispatch(count: number): boolean {
    this.#yieldRequested = false;
    for (let i = 0; i < count; i++) {
      const base = i * EVENT_SIZE;
      const events = this.#eventsView.getUint32(base, NATIVE_LITTLE_ENDIAN);
      const fd = this.#eventsView.getUint32(base + EVENT_DATA_OFFSET, NATIVE_LITTLE_ENDIAN);
      if (fd === this.#wakeFd) {
        this.#libc.symbols.read(this.#wakeFd, this.#drain, 8n);
        continue;
      }
      const handler = this.#handlers.get(fd);
      if (handler === undefined) continue; // unwatched by an earlier handler
      try {
        handler({
          readable: (events & EPOLLIN) !== 0,
          writable: (events & EPOLLOUT) !== 0,
          failed: (events & (EPOLLERR | EPOLLHUP)) !== 0,
        });
      } catch (error) {
        this.#onHandlerError(fd, error);
      }
    }
    return this.#yieldRequested;
  }

  /** Makes {@link run} return. Idempotent; safe before run() starts. */
  stop(): void {
    this.#stopping = true;
    if (!this.#closed) this.#libc.symbols.write(this.#wakeFd, this.#wakeValue, 8n);
  }

  /** Closes the epoll and eventfd descriptors. Call after run() returned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    this.#libc.symbols.close(this.#wakeFd);
    this.#libc.symbols.close(this.#epollFd);
  }
}
