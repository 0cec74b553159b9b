package org.lifetimecircle.secrets.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares the permission an {@code /api/v1} resource method needs. {@code access.AuthFilter} enforces it
 * for every request; a method without it (or without {@code @Audited}) is refused, so forgetting
 * either fails closed.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Requires {
    Permission value();

    /**
     * Roles the caller must also have, beyond the permission's own ceiling (empty: any role the
     * permission allows). {@code POST /audit/archive} needs audit:read AND the admin role.
     */
    Role[] roles() default {};
}
