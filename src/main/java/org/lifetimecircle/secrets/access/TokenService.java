package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.web.ApiException;

/** Issues, checks and revokes API tokens. */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class TokenService {

    private final TokenRepository tokens;
    private final AccessLookups lookups;
    private final PrincipalRepository principals;
    private final AuditService audit;
    private final LtcSecretsConfig config;
    private final Clock clock;
    private final GrantRepository grants;
    private final Alerts alerts;

    TokenService(TokenRepository tokens, AccessLookups lookups, PrincipalRepository principals, AuditService audit,
                 LtcSecretsConfig config, Clock clock, GrantRepository grants, Alerts alerts) {
        this.grants = grants;
        this.alerts = alerts;
        this.tokens = tokens;
        this.lookups = lookups;
        this.principals = principals;
        this.audit = audit;
        this.config = config;
        this.clock = clock;
    }

    /** A token as returned once to its creator. */
    public record Issued(String id, String token, Instant expiresAt) {
        @Override
        public String toString() {
            return "Issued[id=" + id + ", token=<redacted>, expiresAt=" + expiresAt + "]";
        }
    }

    /** Issues a token for an enabled principal, audited; no ttl means the configured default lifetime. */
    public Issued issue(String principalName, Optional<Duration> ttl, String actor) {
        Duration lifetime = ttl.orElse(config.tokens().defaultTtl());
        if (lifetime.compareTo(Duration.ofSeconds(1)) < 0) {
            throw ApiException.invalid("field 'ttl' must be at least PT1S");
        }
        if (lifetime.compareTo(config.tokens().maxTtl()) > 0) {
            throw ApiException.policyViolation("field 'ttl' exceeds ltc-secrets.tokens.max-ttl ("
                    + config.tokens().maxTtl() + ")");
        }
        Minted minted = audit.mutate("token.create", null, principalName, () -> {
            PrincipalEntity principal = principals.findByName(principalName)
                    .orElseThrow(() -> ApiException.notFound("no principal '" + principalName + "'"));
            if (!principal.enabled()) {
                throw ApiException.conflict("principal '" + principalName + "' is disabled");
            }
            Instant now = Clocks.now(clock);
            List<String> active = principalName.equals(actor) ? List.of()
                    : grants.search(Optional.of(principalName), Optional.empty(), Optional.of(true), now, 1000).stream()
                    .map(g -> g.environment + " " + g.permission.id()).sorted().toList();
            return new Minted(persist(principal, now.plus(lifetime), actor, now), active);
        }, m -> {
            // details.tokenId is the acting token's id (every authenticated event has it); this one is the new token's.
            Map<String, Object> d = new java.util.LinkedHashMap<>();
            d.put("issuedTokenId", m.issued().id());
            d.put("expiresAt", m.issued().expiresAt().toString());
            if (!m.otherPrincipalsGrants().isEmpty()) {
                d.put("activeGrantsOfOtherPrincipal", m.otherPrincipalsGrants());
            }
            return d;
        });
        if (!minted.otherPrincipalsGrants().isEmpty()) {
            // Whoever holds this token can act as that principal under its grants, unseen by the grants' review.
            alerts.raise("token.created-for-other", null, "'" + actor + "' created token " + minted.issued().id()
                    + " for '" + principalName + "', who holds " + minted.otherPrincipalsGrants().size()
                    + " active grant(s): " + String.join(", ", minted.otherPrincipalsGrants()),
                    Map.of("principal", principalName, "createdBy", actor, "tokenId", minted.issued().id(),
                            "activeGrants", minted.otherPrincipalsGrants()));
        }
        return minted.issued();
    }

    /** A new token and, when made for another principal, that principal's active grants ("env permission"). */
    private record Minted(Issued issued, List<String> otherPrincipalsGrants) {
    }

    /**
     * Issues the bootstrap admin's token, with the default lifetime like any other token; call inside
     * the writer unit that audits it. Expired, it is replaced through the recovery request file.
     */
    Issued issueBootstrap(PrincipalEntity principal, String actor) {
        Instant now = Clocks.now(clock);
        return persist(principal, now.plus(config.tokens().defaultTtl()), actor, now);
    }

    /**
     * Gives every token still in force without an expiry (bootstrap tokens issued before they had
     * one) the default lifetime from {@code now}; call inside the writer unit that audits it.
     * Returns the ids changed and their new expiry.
     */
    Limited limitUnlimited(Instant now) {
        Instant expiresAt = now.plus(config.tokens().defaultTtl());
        List<TokenEntity> unlimited = tokens.list("expiresAt is null and revokedAt is null order by id");
        unlimited.forEach(t -> t.expiresAt = expiresAt);
        return new Limited(unlimited.stream().map(t -> t.id).toList(), expiresAt);
    }

    /** What {@link #limitUnlimited} changed. */
    record Limited(List<String> tokenIds, Instant expiresAt) {
    }

    /** Whether some token in force has no expiry: read-only, so the usual start writes nothing. */
    boolean anyUnlimited() {
        return tokens.count("expiresAt is null and revokedAt is null") > 0;
    }

    private Issued persist(PrincipalEntity principal, Instant expiresAt, String actor, Instant now) {
        TokenCodec.Minted minted = TokenCodec.mint();
        TokenEntity t = new TokenEntity();
        t.id = minted.id();
        t.principal = principal;
        t.tokenHash = minted.hash();
        t.createdAt = now;
        t.createdBy = actor;
        t.expiresAt = expiresAt;
        tokens.persist(t);
        return new Issued(minted.id(), minted.token(), expiresAt);
    }

    /**
     * The caller a bearer token stands for, if it is well-formed, known, matches in constant time,
     * is neither expired nor revoked, and its principal is enabled. Read fresh on every request:
     * there is no cache that could let a revoked token through once more.
     */
    public Optional<Caller> authenticate(String presented) {
        Optional<String> id = TokenCodec.idOf(presented);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        Optional<AccessLookups.TokenRow> found = lookups.token(id.get());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        AccessLookups.TokenRow t = found.get();
        if (!TokenCodec.matches(presented, t.hash()) || !t.activeAt(clock.instant()) || !t.principalEnabled()) {
            return Optional.empty();
        }
        return Optional.of(new Caller(t.principalId(), t.principal(), t.role(), id.get()));
    }

    /** Revokes a token, audited; revoking a revoked token again changes nothing. */
    public void revoke(String id, String actor) {
        audit.mutate("token.revoke", null, id, () -> {
            TokenEntity t = tokens.findByIdOptional(id).orElseThrow(() -> ApiException.notFound("no token '" + id + "'"));
            boolean already = t.revokedAt != null;
            if (!already) {
                t.revokedAt = Clocks.now(clock);
                t.revokedBy = actor;
            }
            return Map.<String, Object>of("principal", t.principal.name, "alreadyRevoked", already);
        }, details -> details);
    }

    /**
     * Revokes every token of a principal that could still authenticate at {@code now}; call inside the
     * writer unit that audits it. Expired tokens keep their expiry as their end (and their
     * {@code token.expire} event). Returns the ids revoked.
     */
    List<String> revokeAll(PrincipalEntity principal, String actor, Instant now) {
        List<TokenEntity> active = tokens.activeOf(principal, now);
        for (TokenEntity t : active) {
            t.revokedAt = now;
            t.revokedBy = actor;
        }
        return active.stream().map(t -> t.id).sorted().toList();
    }
}
