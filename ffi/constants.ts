/**
 * Numbers from Linux and glibc headers that the wrappers pass to libc.
 * Values are the same on x86_64 and aarch64 Linux.
 *
 * @module
 */

/** Address families (bits/socket.h). */
export const AF_INET = 2;
/** Local (AF_UNIX) sockets: systemd's notification socket. */
export const AF_UNIX = 1;
/** IPv6 address family. */
export const AF_INET6 = 10;
/** Netlink address family. */
export const AF_NETLINK = 16;

/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** Stream socket (TCP). */
export const SOCK_STREAM = 1;
/** Raw socket type, the one netlink uses. */
export const SOCK_RAW = 3;
/** `SOCK_NONBLOCK` = O_NONBLOCK (04000 octal). */
export const SOCK_NONBLOCK = 0o4000;
/** `SOCK_CLOEXEC` = O_CLOEXEC (02000000 octal). */
export const SOCK_CLOEXEC = 0o2000000;

/** open(2) flags: read only (0), and close on exec (02000000 octal). */
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
/** open(2): write only. */
export const O_WRONLY = 1;
/** A file status flag: reads and writes that would wait fail with EAGAIN instead. */
export const O_NONBLOCK = SOCK_NONBLOCK;
/** fcntl(2) commands: get and set the file status flags. */
export const F_GETFL = 3;
export const F_SETFL = 4;
/** open(2): create the file if absent. */
export const O_CREAT = 0o100;
/** open(2) with O_CREAT: fail with EEXIST if the file exists. */
export const O_EXCL = 0o200;

/** `NETLINK_ROUTE` protocol of AF_NETLINK (linux/netlink.h): link and address events. */
export const NETLINK_ROUTE = 0;
/** `NETLINK_GENERIC` protocol of AF_NETLINK (linux/netlink.h). */
export const NETLINK_GENERIC = 16;

/** Option levels. */
export const SOL_SOCKET = 1;
/** IPPROTO_IP option level. */
export const IPPROTO_IP = 0;
/** IPPROTO_UDP, for getaddrinfo hints. */
export const IPPROTO_UDP = 17;
/** IPPROTO_IPV6 option level. */
export const IPPROTO_IPV6 = 41;
/** SOL_NETLINK option level. */
export const SOL_NETLINK = 270;

/** SOL_SOCKET options (asm-generic/socket.h). */
export const SO_REUSEADDR = 2;
/** Send buffer size. */
export const SO_SNDBUF = 7;
/** Receive buffer size. */
export const SO_RCVBUF = 8;
/** Send buffer size, ignoring rmem_max (CAP_NET_ADMIN). */
export const SO_SNDBUFFORCE = 32;
/** Receive buffer size, ignoring rmem_max (CAP_NET_ADMIN). */
export const SO_RCVBUFFORCE = 33;

/** IPPROTO_IP options (linux/in.h). */
export const IP_MULTICAST_IF = 32;
/** IPv4 multicast TTL. */
export const IP_MULTICAST_TTL = 33;
/** IPv4 multicast loopback. */
export const IP_MULTICAST_LOOP = 34;
/** Join an IPv4 group. */
export const IP_ADD_MEMBERSHIP = 35;
/** Receive every joined group on the host (default 1). */
export const IP_MULTICAST_ALL = 49;
/** Ask for, and the ancillary message of, the arrival interface (struct in_pktinfo). */
export const IP_PKTINFO = 8;

/** IPPROTO_IPV6 options (linux/in6.h). */
export const IPV6_MULTICAST_IF = 17;
/** IPv6 multicast hop limit. */
export const IPV6_MULTICAST_HOPS = 18;
/** IPv6 multicast loopback. */
export const IPV6_MULTICAST_LOOP = 19;
/** Join an IPv6 group. */
export const IPV6_ADD_MEMBERSHIP = 20;
/** Refuse IPv4-mapped traffic on an IPv6 socket. */
export const IPV6_V6ONLY = 26;
/** Receive every joined group on the host (default 1). */
export const IPV6_MULTICAST_ALL = 29;
/** Ask for the arrival interface of each datagram. */
export const IPV6_RECVPKTINFO = 49;
/** Its ancillary message (struct in6_pktinfo). */
export const IPV6_PKTINFO = 50;

/** SOL_NETLINK options (linux/netlink.h). */
export const NETLINK_ADD_MEMBERSHIP = 1;
/** Ask for extended ACKs (error text in NLMSG_ERROR). */
export const NETLINK_EXT_ACK = 11;

/** recv/send flags. */
export const MSG_DONTWAIT = 0x40;
/** send(2) flag: no SIGPIPE when the peer of a stream has gone. */
export const MSG_NOSIGNAL = 0x4000;
/** Report the real length of a truncated datagram. */
export const MSG_TRUNC = 0x20;

/** epoll (sys/epoll.h). */
export const EPOLL_CLOEXEC = 0o2000000;
/** Register an fd. */
export const EPOLL_CTL_ADD = 1;
/** Unregister an fd. */
export const EPOLL_CTL_DEL = 2;
/** Change an fd's interest. */
export const EPOLL_CTL_MOD = 3;
/** Readable. */
export const EPOLLIN = 0x001;
/** Writable. */
export const EPOLLOUT = 0x004;
/** Error condition. */
export const EPOLLERR = 0x008;
/** Hang-up. */
export const EPOLLHUP = 0x010;

/** eventfd flags (sys/eventfd.h). */
export const EFD_NONBLOCK = 0o4000;
/** Close on exec. */
export const EFD_CLOEXEC = 0o2000000;

/** getaddrinfo flags and errors (netdb.h). */
export const AI_PASSIVE = 0x0001;
/** Do not resolve host names. */
export const AI_NUMERICHOST = 0x0004;
/** syslog (sys/syslog.h): facility and options. */
export const LOG_DAEMON = 3 << 3;
/** Log the pid with each message. */
export const LOG_PID = 0x01;

/** statx(2): operate on dirfd itself (linux/fcntl.h). */
export const AT_EMPTY_PATH = 0x1000;
/** statx(2): want stx_ino (linux/stat.h); the device is always filled in. */
export const STATX_INO = 0x100;
/** clock_gettime(2) clock (linux/time.h): since boot, never set, one for every process. */
export const CLOCK_MONOTONIC = 1;
