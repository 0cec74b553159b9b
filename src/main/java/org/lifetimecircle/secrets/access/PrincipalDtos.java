package org.lifetimecircle.secrets.access;

import java.time.Instant;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.web.ApiException;

/** Request and response bodies of the principal and token endpoints. */
final class PrincipalDtos {

    private PrincipalDtos() {
    }

    /** {@code POST /principals}. */
    record CreatePrincipal(String name, Role role) {
        CreatePrincipal {
            if (name == null || name.isBlank()) {
                throw ApiException.invalid("field 'name' is required");
            }
            if (role == null) {
                throw ApiException.invalid("field 'role' is required: admin, security-engineer, deployer or auditor");
            }
        }
    }

    /** A principal as the API shows it; a disabled one keeps its row, with who disabled it and why. */
    record PrincipalView(String name, Role role, Instant createdAt, String createdBy, boolean enabled,
                         Instant disabledAt, String disabledBy, String disabledReason) {
        static PrincipalView of(PrincipalEntity p) {
            return new PrincipalView(p.name, p.role, p.createdAt, p.createdBy, p.enabled(), p.disabledAt,
                    p.disabledBy, p.disabledReason);
        }
    }

    /** {@code POST /principals/{name}/tokens}; {@code ttl} is an ISO-8601 duration. */
    record CreateToken(String ttl) {
    }

    /** The one response that ever contains a token. */
    record IssuedToken(String id, String token, Instant expiresAt) {
        @Override
        public String toString() {
            return "IssuedToken[id=" + id + ", token=<redacted>]";
        }
    }

    /**
     * Token metadata; never the token or its hash. {@code lastUsedAt} is the time of the last request
     * the token authenticated (whatever its outcome), null if it never authenticated one.
     */
    record TokenView(String id, Instant createdAt, String createdBy, Instant expiresAt, Instant lastUsedAt,
                     Instant revokedAt, String revokedBy) {
        static TokenView of(TokenEntity t) {
            return new TokenView(t.id, t.createdAt, t.createdBy, t.expiresAt, t.lastUsedAt, t.revokedAt, t.revokedBy);
        }
    }
}
