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
