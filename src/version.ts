/** This daemon's version. */
export const VERSION = "0.1.0";

/** The Jool release whose joold this daemon is compatible with. */
export const REFERENCE_VERSION = "4.1.14";
