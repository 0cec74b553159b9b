package org.lifetimecircle.secrets.ha;

import org.jboss.logging.Logger;

/**
 * How an instance that is no longer (or cannot stay) the active one ends: one ERROR line, then the process halts
 * with {@link #EXIT_STATUS}. systemd's {@code Restart=} brings it back, as a standby.
 *
 * <p>Why halt and not a graceful exit: shutdown's own work writes (the closing audit checkpoint) and would wait
 * on a database session that may be cut; every acknowledged change is already durable, and a crash at any point
 * is recovered by the next start (this is what {@code kill -9} tests prove), so nothing is lost by not waiting.
 */
final class Fencing {

    private static final Logger LOG = Logger.getLogger(Fencing.class);
    /** EX_TEMPFAIL: the service can run again, as a standby. */
    static final int EXIT_STATUS = 75;

    private Fencing() {
    }

    static void halt(String why) {
        LOG.errorf("ltc-secrets is fenced and stops now (exit %d): %s; writes are refused, a standby takes over, "
                + "and a restart joins as a standby", EXIT_STATUS, why);
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_STATUS);
    }
}
