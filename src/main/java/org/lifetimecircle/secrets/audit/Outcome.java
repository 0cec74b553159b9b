package org.lifetimecircle.secrets.audit;

/** How the recorded action ended. */
public enum Outcome {
    SUCCESS, DENIED, FAILED;

    /**
     * The outcome of an action stopped with HTTP status {@code status} (4xx or 5xx): a refusal by the
     * access rules or a policy (401, 403, 422) is DENIED; anything else that stopped it (bad input, a
     * conflict, an error) is FAILED. The one place this rule is written: refusals recorded by the
     * service ({@link AuditService}) and by the response filter ({@link AuditResponseFilter}) follow it.
     */
    public static Outcome ofRefusal(int status) {
        return status == 401 || status == 403 || status == 422 ? DENIED : FAILED;
    }
}
