/**
 * The process exit statuses of joold and its commands: a supervisor and
 * scripts tell the failures apart by them.
 *
 * @module
 */

/** Success; for `joold check`, no item failed. */
export const EXIT_SUCCESS = 0;

/** A failure at run time or setup that a retry may fix; for `joold check`, an item failed. */
export const EXIT_FAILURE = 1;

/** A bad command line. */
export const EXIT_USAGE = 2;

/**
 * A configuration the daemon cannot use (sysexits.h EX_CONFIG), which a
 * retry will not fix.
 */
export const EXIT_CONFIG = 78;

/**
 * `joold status`: the daemon runs but this node is not in sync yet
 * (starting, resyncing, or gaps known); 0 is running and in sync.
 */
export const STATUS_NOT_IN_SYNC = 1;

/**
 * `joold status`: the daemon is not running (no status file, its process
 * gone, or its heartbeat stale), LSB's "program is not running".
 */
export const STATUS_NOT_RUNNING = 3;

/** `joold status`: a status file that cannot be read, LSB's "status unknown". */
export const STATUS_UNKNOWN = 4;
