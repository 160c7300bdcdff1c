/**
 * The one place that opens the C library.
 *
 * Every system call the daemon makes goes through {@link LIBC_SYMBOLS}; the
 * typed wrappers in this folder turn return codes into results or
 * {@link SyscallError}s. Nothing outside `ffi/` touches `Deno.dlopen`.
 *
 * @module
 */

/** epoll_wait's parameters, shared by its two entries below. */
const EPOLL_WAIT_PARAMETERS = [
  "i32", // int epfd
  "buffer", // struct epoll_event *events
  "i32", // int maxevents
  "i32", // int timeout (ms)
] as const;

/**
 * Symbols taken from glibc. Each parameter is commented with its C type.
 *
 * All calls are synchronous except `epoll_wait_blocking`: errno is
 * thread-local and Deno runs `nonblocking` calls on a worker thread, so errno
 * is only trustworthy after a synchronous call.
 */
export const LIBC_SYMBOLS = {
  /** int *__errno_location(void); */
  __errno_location: { parameters: [], result: "pointer" },
  /** char *strerror(int errnum); */
  strerror: { parameters: ["i32" /* int errnum */], result: "pointer" },

  socket: {
    parameters: [
      "i32", // int domain
      "i32", // int type
      "i32", // int protocol
    ],
    result: "i32",
  },
  bind: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct sockaddr *addr
      "u32", // socklen_t addrlen
    ],
    result: "i32",
  },
  /** connect(2): on a UDP socket, only a route lookup (`joold check`'s unicast peers). */
  connect: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct sockaddr *addr
      "u32", // socklen_t addrlen
    ],
    result: "i32",
  },
  close: { parameters: ["i32" /* int fd */], result: "i32" },
  /**
   * int open(const char *pathname, int flags, ...); only ever called
   * without O_CREAT, so the variadic mode is never passed.
   */
  open: {
    parameters: [
      "buffer", // const char *pathname
      "i32", // int flags
    ],
    result: "i32",
  },
  /**
   * open(2) with O_CREAT, which takes the mode (the key file of joold
   * keygen): the same variadic function, declared with its third argument.
   */
  open_create: {
    name: "open",
    parameters: [
      "buffer", // const char *pathname
      "i32", // int flags
      "u32", // mode_t mode
    ],
    result: "i32",
  },
  /** int listen(int sockfd, int backlog); */
  listen: {
    parameters: [
      "i32", // int sockfd
      "i32", // int backlog
    ],
    result: "i32",
  },
  /** int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags); */
  accept4: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct sockaddr *addr (may be NULL)
      "buffer", // socklen_t *addrlen (may be NULL)
      "i32", // int flags
    ],
    result: "i32",
  },
  setsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // const void *optval
      "u32", // socklen_t optlen
    ],
    result: "i32",
  },
  getsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // void *optval
      "buffer", // socklen_t *optlen
    ],
    result: "i32",
  },
  getsockname: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct sockaddr *addr
      "buffer", // socklen_t *addrlen
    ],
    result: "i32",
  },
  sendto: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const void *buf
      "usize", // size_t len
      "i32", // int flags
      "buffer", // const struct sockaddr *dest_addr (NULL for connected/netlink)
      "u32", // socklen_t addrlen
    ],
    result: "isize",
  },
  /** Several datagrams in one call (the benchmark's load generator). */
  sendmmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct mmsghdr *msgvec
      "u32", // unsigned int vlen
      "i32", // int flags
    ],
    result: "i32",
  },
  /** With the arrival interface (IP_PKTINFO, IPV6_PKTINFO) in the control buffer. */
  recvmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct msghdr *msg
      "i32", // int flags
    ],
    result: "isize",
  },
  recvfrom: {
    parameters: [
      "i32", // int sockfd
      "buffer", // void *buf
      "usize", // size_t len
      "i32", // int flags
      "buffer", // struct sockaddr *src_addr
      "buffer", // socklen_t *addrlen
    ],
    result: "isize",
  },

  epoll_create1: { parameters: ["i32" /* int flags */], result: "i32" },
  epoll_ctl: {
    parameters: [
      "i32", // int epfd
      "i32", // int op
      "i32", // int fd
      "buffer", // struct epoll_event *event
    ],
    result: "i32",
  },
  /**
   * int epoll_wait(int epfd, struct epoll_event *events, int maxevents,
   *                int timeout);
   *
   * On the main thread: it blocks the event loop for up to `timeout` ms, so
   * only the reactor calls it, with short time-outs, while events keep coming.
   */
  epoll_wait: { parameters: EPOLL_WAIT_PARAMETERS, result: "i32" },
  /**
   * epoll_wait(2) again, on Deno's worker pool, for waits of any length. Its
   * errno is unreadable from the main thread; callers treat -1 as "look again".
   */
  epoll_wait_blocking: {
    name: "epoll_wait",
    parameters: EPOLL_WAIT_PARAMETERS,
    result: "i32",
    nonblocking: true,
  },
  eventfd: {
    parameters: [
      "u32", // unsigned int initval
      "i32", // int flags
    ],
    result: "i32",
  },
  read: {
    parameters: [
      "i32", // int fd
      "buffer", // void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  write: {
    parameters: [
      "i32", // int fd
      "buffer", // const void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  /** int fcntl(int fd, int cmd, ... /* int arg *\/): F_GETFL and F_SETFL only. */
  fcntl: {
    parameters: [
      "i32", // int fd
      "i32", // int cmd
      "i32", // int arg
    ],
    result: "i32",
  },

  /** int fchown(int fd, uid_t owner, gid_t group); owner -1 (0xffffffff): unchanged. */
  fchown: {
    parameters: [
      "i32", // int fd
      "u32", // uid_t owner
      "u32", // gid_t group
    ],
    result: "i32",
  },
  /** int fchmod(int fd, mode_t mode); not subject to the umask. */
  fchmod: {
    parameters: [
      "i32", // int fd
      "u32", // mode_t mode
    ],
    result: "i32",
  },
  /** struct passwd *getpwnam(const char *name); NULL if there is no such user. */
  getpwnam: { parameters: ["buffer" /* const char *name */], result: "pointer" },
  /** struct group *getgrnam(const char *name); NULL if there is no such group. */
  getgrnam: { parameters: ["buffer" /* const char *name */], result: "pointer" },
  /** int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups); */
  getgrouplist: {
    parameters: [
      "buffer", // const char *user
      "u32", // gid_t group
      "buffer", // gid_t *groups
      "buffer", // int *ngroups (in: room; out: how many)
    ],
    result: "i32",
  },

  /** ssize_t readlink(const char *pathname, char *buf, size_t bufsiz); no NUL is written. */
  readlink: {
    parameters: [
      "buffer", // const char *pathname
      "buffer", // char *buf
      "usize", // size_t bufsiz
    ],
    result: "isize",
  },

  /**
   * int statx(int dirfd, const char *pathname, int flags, unsigned int mask,
   * struct statx *statxbuf); glibc 2.28+, where fstat may be no symbol.
   */
  statx: {
    parameters: [
      "i32", // int dirfd
      "buffer", // const char *pathname
      "i32", // int flags
      "u32", // unsigned int mask
      "buffer", // struct statx *statxbuf (256 bytes)
    ],
    result: "i32",
  },

  /** int kill(pid_t pid, int sig); only with sig 0, which asks whether the process exists. */
  kill: {
    parameters: [
      "i32", // pid_t pid
      "i32", // int sig
    ],
    result: "i32",
  },
  /** int clock_gettime(clockid_t clockid, struct timespec *tp); */
  clock_gettime: {
    parameters: [
      "i32", // clockid_t clockid
      "buffer", // struct timespec *tp
    ],
    result: "i32",
  },

  /** unsigned int if_nametoindex(const char *ifname); */
  if_nametoindex: { parameters: ["buffer" /* const char *ifname */], result: "u32" },
  getifaddrs: {
    parameters: ["buffer" /* struct ifaddrs **ifap */],
    result: "i32",
  },
  freeifaddrs: {
    parameters: ["pointer" /* struct ifaddrs *ifa */],
    result: "void",
  },
  getaddrinfo: {
    parameters: [
      "buffer", // const char *node (NULL allowed)
      "buffer", // const char *service (NULL allowed)
      "buffer", // const struct addrinfo *hints
      "buffer", // struct addrinfo **res
    ],
    result: "i32",
  },
  freeaddrinfo: {
    parameters: ["pointer" /* struct addrinfo *res */],
    result: "void",
  },
  /** const char *gai_strerror(int errcode); */
  gai_strerror: { parameters: ["i32" /* int errcode */], result: "pointer" },

  /** void openlog(const char *ident, int option, int facility); */
  openlog: {
    parameters: [
      "buffer", // const char *ident (must stay alive: glibc keeps the pointer)
      "i32", // int option
      "i32", // int facility
    ],
    result: "void",
  },
  /** void syslog(int priority, const char *format, ...); called as "%s", msg. */
  syslog: {
    parameters: [
      "i32", // int priority
      "buffer", // const char *format
      "buffer", // const char *msg (the single vararg)
    ],
    result: "void",
  },
  /** void closelog(void); */
  closelog: { parameters: [], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The raw symbol table, as `Deno.dlopen` returns it. */
export type LibcSymbols = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

/** Shared-object names tried, in order, when opening the C library. */
const LIBC_NAMES = ["libc.so.6", "libc.so"];

/**
 * An opened C library. Create one per process with {@link Libc.open} and pass
 * it to everything that needs the system; close it on shutdown.
 */
export class Libc {
  readonly symbols: LibcSymbols;
  readonly #library: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
  readonly #errnoView: Deno.UnsafePointerView;

  private constructor(library: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>) {
    this.#library = library;
    this.symbols = library.symbols;
    // __errno_location() is per thread; synchronous calls all run on the
    // main thread, so its address is fixed for this object's lifetime.
    const errnoPointer = library.symbols.__errno_location();
    if (errnoPointer === null) throw new Error("Cannot open the C library: errno has no address");
    this.#errnoView = new Deno.UnsafePointerView(errnoPointer);
  }

  /** Opens glibc. Throws an Error naming the library if it cannot. */
  static open(): Libc {
    let lastError: unknown;
    for (const name of LIBC_NAMES) {
      try {
        return new Libc(Deno.dlopen(name, LIBC_SYMBOLS));
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`Cannot open the C library: ${String(lastError)}`);
  }

  /** errno as left by the last synchronous call on this thread. */
  errno(): number {
    return this.#errnoView.getInt32();
  }

  /** The C library's description of an errno value. */
  strerror(errno: number): string {
    const pointer = this.symbols.strerror(errno);
    return pointer === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(pointer);
  }

  /** Unloads the library. No wrapper may be used afterwards. */
  close(): void {
    this.#library.close();
  }
}
