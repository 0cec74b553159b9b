package org.lifetimecircle.secrets.auth;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The permission table of the API contract. An environment-scoped permission needs the role AND
 * an active grant for that environment; the others need the role only.
 */
public enum Permission {
    PRINCIPAL_MANAGE("principal:manage", false, Role.ADMIN),
    GRANT_MANAGE("grant:manage", false, Role.ADMIN, Role.SECURITY_ENGINEER),
    METADATA_READ("metadata:read", false, Role.ADMIN, Role.SECURITY_ENGINEER, Role.DEPLOYER, Role.AUDITOR),
    SECRET_ROTATE("secret:rotate", true, Role.ADMIN, Role.SECURITY_ENGINEER),
    ENV_FILE_READ("env-file:read", true, Role.ADMIN, Role.DEPLOYER),
    ENV_FILE_WRITE("env-file:write", true, Role.ADMIN, Role.SECURITY_ENGINEER, Role.DEPLOYER),
    AUDIT_READ("audit:read", false, Role.ADMIN, Role.SECURITY_ENGINEER, Role.AUDITOR);

    private final String id;
    private final boolean environmentScoped;
    private final Set<Role> roles;

    Permission(String id, boolean environmentScoped, Role first, Role... rest) {
        this.id = id;
        this.environmentScoped = environmentScoped;
        this.roles = EnumSet.of(first, rest);
    }

    /** The name used on the wire, e.g. {@code env-file:read}. */
    public String id() {
        return id;
    }

    /** Whether using this permission also needs an active grant for the environment. */
    public boolean environmentScoped() {
        return environmentScoped;
    }

    /** Looks a permission up by its wire name, e.g. {@code env-file:read}. */
    public static Optional<Permission> fromId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst();
    }

    /** Whether a role may hold this permission at all (its ceiling). */
    public boolean allows(Role role) {
        return roles.contains(role);
    }
}
