package org.lifetimecircle.secrets.audit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The audit action of an {@code /api/v1} endpoint. Requests the service does not record itself
 * (reads, denials, refusals before the service ran) are recorded under it by
 * {@link AuditResponseFilter}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Audited {
    /** A stable dotted action name, e.g. {@code principal.create}. */
    String value();
}
