package org.lifetimecircle.secrets.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a resource class anyone may call without a token; {@code access.AuthFilter} lets its requests through
 * unchecked. Only the contract's unauthenticated health answer carries it, and {@code OpenResourcesTest} keeps it
 * that way: every other resource needs a token and its method's {@link Requires}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Unauthenticated {
}
