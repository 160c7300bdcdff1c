/**
 * The daemon's counters. One instance is created by whoever starts the
 * daemon and passed in; nothing here is global.
 *
 * @module
 */

/** Counters of the reference joold, plus our own. */
export class SyncCounters {
  /** Session batches taken from the kernel and relayed (KERNEL_SENT_PKTS). */
  kernelSentPackets = 0;
  /** Their session payload bytes (KERNEL_SENT_BYTES). */
  kernelSentBytes = 0;
  /** Datagrams received from peers (NET_RCVD_PKTS). */
  netReceivedPackets = 0;
  /** Their bytes (NET_RCVD_BYTES). */
  netReceivedBytes = 0;
  /** Datagrams sent to the group (NET_SENT_PKTS). */
  netSentPackets = 0;
  /** Their bytes (NET_SENT_BYTES). */
  netSentBytes = 0;

  /** Kernel batches of other instances, ignored. */
  kernelForeignBatches = 0;
  /** Kernel messages that did not decode. */
  kernelMalformed = 0;
  /** Error replies from the kernel (refused adds, ...). */
  kernelErrors = 0;
  /** Times the kernel dropped multicast to us (ENOBUFS). */
  kernelOverruns = 0;
  /** ACKs sent to the kernel. */
  kernelAcks = 0;
  /** Extra ACKs that make the kernel check its queue once the flush deadline has passed. */
  kernelNudges = 0;
  /** Datagrams handed to the kernel (JOOLD_ADD). */
  kernelAdds = 0;
  /** Sends to the group that failed (buffer full, no route, ...). */
  netSendFailures = 0;
  /** Datagrams from peers dropped before the kernel (too large, invalid). */
  netDropped = 0;
  /**
   * Datagrams from peers in another Jool 4.1 session encoding than the
   * local kernel's, converted to the local one (mixed-version clusters).
   */
  netConverted = 0;
  /** Resync requests we sent (at start, and when the sync interface is back). */
  resyncRequests = 0;
  /** Peers' resync requests we answered by advertising. */
  resyncAnswers = 0;
  /** Advertisements of our table (resync answers, overruns). */
  advertisements = 0;
  /**
   * Sessions sent to the group from our own reading of the table (Jool
   * 4.1.10 and earlier, whose JOOLD_ADVERTISE sends nothing; the
   * convergence check's repairs).
   */
  advertisedSessions = 0;
  /** The datagrams that carried them (included in netSentPackets). */
  advertisedDatagrams = 0;
  /** Control-port datagrams that were not resync messages, or requests refused (back-off, budget). */
  controlDropped = 0;
  /**
   * Datagrams (sync or control) dropped as not authentic: not sealed,
   * unknown key id, bad tag, or left unopened (a sender not proven live, or
   * over the budget of attempts) (only with "auth key file").
   */
  authDropped = 0;
  /** Authentic datagrams dropped as replays (counter seen, or too old). */
  replayDropped = 0;
  /** Datagrams dropped for coming from no configured unicast peer. */
  unknownSenderDropped = 0;
  /** Stats-port requests answered. */
  statsAnswers = 0;
  /**
   * Stats-port requests not answered: stats answers sent to us (a loop
   * between two servers), or over the answer budget (a flood).
   */
  statsRefused = 0;
  /** Times the sync interface went away (deleted, or its address removed). */
  syncInterfaceLosses = 0;
  /** Times it came back and the group was joined on it again. */
  syncInterfaceReturns = 0;
  /** Notifications to the service manager (systemd's NOTIFY_SOCKET) that could not be sent. */
  serviceNotifyFailures = 0;
  /** Writes of the status file (`joold status`) that failed. */
  statusFileFailures = 0;
  /** Peers' sync datagrams found missing by their LEDGERs (docs/lossless.md). */
  syncGaps = 0;
  /** NACKs sent (asking peers for what was missing). */
  syncNacksSent = 0;
  /** NACKs received for our epoch. */
  syncNacksReceived = 0;
  /** Datagrams sent again in answer to NACKs. */
  syncResends = 0;
  /** Missing datagrams that came by RESEND and went to the kernel. */
  syncRepaired = 0;
  /** Missing datagrams given up after the last NACK. */
  syncGapsUnrepaired = 0;
  /** Advertisements of our table because a NACK asked for more than the resend buffer holds. */
  gapAdvertisements = 0;
  /** Sessions our kernel dropped because its joold queue was full (JSTAT_JOOLD_SSS_ENOSPC, Jool 4.1.12+). */
  kernelDrops = 0;
  /** Kernel batches that came full: sessions were set aside and never sent (Jool 4.1.10 and earlier). */
  kernelFullBatches = 0;
  /** Offers of our table after the kernel's own drops (docs/lossless.md). */
  kernelDropOffers = 0;
  /** Reads of the kernel's drop counter (or of ss-max-payload) that failed. */
  kernelStatsFailures = 0;
  /** Convergence check rounds this daemon took part in: its table read, its digest sent (docs/lossless.md). */
  convergenceRounds = 0;
  /** Rounds whose digests differed from a peer's, and that sent our sessions of those buckets. */
  convergenceRepairs = 0;
  /** Buckets (of 256 a round) found different from some peer's digest. */
  convergenceBuckets = 0;
  /** Sessions the repairs sent. */
  convergenceSessions = 0;
  /** Rounds given up: the table, or the session timeouts, could not be read. */
  convergenceFailures = 0;
}

/**
 * The reference daemon's answer on the stats port, byte for byte: six
 * `NAME,value` lines in this order.
 */
export function formatReferenceStats(counters: SyncCounters): string {
  return `KERNEL_SENT_PKTS,${counters.kernelSentPackets}\n` +
    `KERNEL_SENT_BYTES,${counters.kernelSentBytes}\n` +
    `NET_RCVD_PKTS,${counters.netReceivedPackets}\n` +
    `NET_RCVD_BYTES,${counters.netReceivedBytes}\n` +
    `NET_SENT_PKTS,${counters.netSentPackets}\n` +
    `NET_SENT_BYTES,${counters.netSentBytes}\n`;
}
