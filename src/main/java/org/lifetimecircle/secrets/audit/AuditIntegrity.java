package org.lifetimecircle.secrets.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * The result of the start-up check of the chain's tail, shown loudly: an ERROR log line, the
 * {@code audit-chain} detail of {@code /health} and the {@code ltc_audit_chain_valid} metric. The
 * service keeps running so the trail can be exported and examined.
 */
@ApplicationScoped
public class AuditIntegrity {

    /** How many of the newest events the start-up check recomputes. */
    static final long TAIL = 10_000;
    private static final Logger LOG = Logger.getLogger(AuditIntegrity.class);

    private final AuditVerifier verifier;
    private final AuditWriter writer;
    private volatile VerifyResult lastCheck;

    AuditIntegrity(AuditVerifier verifier, AuditWriter writer, MeterRegistry registry) {
        this.verifier = verifier;
        this.writer = writer;
        Gauge.builder("ltc_audit_chain_valid", this, i -> i.valid() ? 1 : 0)
                .description("1 if the last check of the audit chain found it intact, else 0").register(registry);
        Gauge.builder("ltc_audit_head_seq", this, i -> i.writer.head().seq())
                .description("seq of the newest durable audit event").register(registry);
    }

    /** Verifies the tail now; logs an ERROR if broken. */
    public VerifyResult checkTail() {
        VerifyResult r = verifier.verifyTail(TAIL);
        lastCheck = r;
        if (!r.valid()) {
            LOG.errorf("AUDIT CHAIN BROKEN at seq %d: %s. Export the trail (GET /api/v1/audit/export) and "
                    + "investigate; see the restore runbook.", r.firstInvalidSeq(), r.reason());
        }
        return r;
    }

    /** Records the result of a full verification requested through the API. */
    void remember(VerifyResult r) {
        lastCheck = r;
    }

    /** Whether the last check found the chain intact (true until the first check). */
    public boolean valid() {
        VerifyResult r = lastCheck;
        return r == null || r.valid();
    }
}
