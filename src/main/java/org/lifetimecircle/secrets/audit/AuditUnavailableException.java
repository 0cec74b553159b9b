package org.lifetimecircle.secrets.audit;

import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.ProblemCode;

/**
 * The audit event could not be made durable, so the request it belongs to failed and changed
 * nothing (fail closed): a 503. Carries no detail of the cause; that goes to the log.
 */
public class AuditUnavailableException extends ApiException {

    public AuditUnavailableException(String message) {
        super(ProblemCode.UNAVAILABLE, "the audit trail is unavailable (" + message + "); nothing was changed");
    }
}
