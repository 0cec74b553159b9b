package org.lifetimecircle.secrets.access;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.files.SecureFiles;

/**
 * Creates the first admin on an empty installation, and re-issues its token when someone with root
 * on the host asks for it by creating the request file. The token goes to a 0600 file; the log
 * names the file, never the token.
 */
@ApplicationScoped
public class BootstrapAdmin {

    /** Name of the principal created on first start. */
    public static final String NAME = "bootstrap-admin";
    static final String TOKEN_FILE = "bootstrap-admin.token";
    static final String REQUEST_FILE = "bootstrap-admin.request";
    private static final String ACTOR = Actors.SYSTEM;
    private static final Logger LOG = Logger.getLogger(BootstrapAdmin.class);

    private final PrincipalRepository principals;
    private final TokenService tokens;
    private final AuditWriter writer;
    private final LtcSecretsConfig config;
    private final Clock clock;

    BootstrapAdmin(PrincipalRepository principals, TokenService tokens, AuditWriter writer, LtcSecretsConfig config,
                   Clock clock) {
        this.principals = principals;
        this.writer = writer;
        this.tokens = tokens;
        this.config = config;
        this.clock = clock;
    }

    /** What {@link #run()} did. */
    public enum Outcome { CREATED, RECOVERED, NOTHING }

    /** Creates the bootstrap admin if there are no principals, or honours a recovery request. */
    public Outcome run() {
        Path tokenFile = config.dataDir().resolve(TOKEN_FILE);
        Path requestFile = config.dataDir().resolve(REQUEST_FILE);
        boolean recovery = Files.exists(requestFile, LinkOption.NOFOLLOW_LINKS);
        if (!recovery && read(principals::count) > 0) {
            limitLegacyTokens();
            return Outcome.NOTHING; // the usual start: nothing to do, nothing to record
        }
        // The token file is written inside the writer's transaction, before the commit: a crash in
        // between leaves no principal behind, so the next start bootstraps again rather than
        // locking everyone out.
        Result result = writer.submit(new Unit<>(() -> {
            if (principals.count() == 0) {
                PrincipalEntity admin = newAdmin();
                principals.persist(admin);
                TokenService.Issued issued = tokens.issueBootstrap(admin, ACTOR);
                writeToken(tokenFile, issued);
                return new Result(Outcome.CREATED, issued, 0);
            }
            if (recovery) {
                PrincipalEntity admin = principals.findByName(NAME).orElseGet(() -> {
                    PrincipalEntity p = newAdmin();
                    principals.persist(p);
                    return p;
                });
                // Root asked for it: this brings a disabled bootstrap admin back, deliberately.
                admin.disabledAt = null;
                admin.disabledBy = null;
                admin.disabledReason = null;
                int revoked = tokens.revokeAll(admin, ACTOR, Clocks.now(clock)).size();
                TokenService.Issued issued = tokens.issueBootstrap(admin, ACTOR);
                writeToken(tokenFile, issued);
                return new Result(Outcome.RECOVERED, issued, revoked);
            }
            return new Result(Outcome.NOTHING, null, 0);
        }, r -> event(r), e -> AuditDraft.by(ACTOR).action(recovery ? "token.create" : "principal.create").target(NAME)
                .outcome(org.lifetimecircle.secrets.audit.Outcome.FAILED).details(Map.of("bootstrap", true))));
        switch (result.outcome()) {
            case CREATED -> LOG.infof("created principal %s; its token is in %s (mode 0600): read it, then delete "
                    + "the file. %s", NAME, tokenFile, expiryAndRecovery(result.issued().expiresAt()));
            case RECOVERED -> {
                LOG.warnf("bootstrap recovery: revoked %d token(s) of %s, wrote a new token to %s. %s", result.revoked(),
                        NAME, tokenFile, expiryAndRecovery(result.issued().expiresAt()));
                deleteRequest(requestFile);
            }
            case NOTHING -> { }
        }
        return result.outcome();
    }

    private record Result(Outcome outcome, TokenService.Issued issued, int revoked) {
        String tokenId() {
            return issued == null ? null : issued.id();
        }
    }

    /** The log's word on when the token stops working and how to get a new one then. */
    private String expiryAndRecovery(java.time.Instant expiresAt) {
        return "The token expires at " + expiresAt + " (ltc-secrets.tokens.default-ttl); before then, give people their "
                + "own admin tokens. If every admin token is lost or expired, create "
                + config.dataDir().resolve(REQUEST_FILE) + " as root and restart: the service revokes " + NAME
                + "'s tokens and writes a new token file";
    }

    /**
     * Bootstrap tokens issued before they had an expiry stayed valid until revoked. Once, on the
     * first start that finds one, they get the default lifetime from now: audited, and logged with
     * the expiry and the way back in.
     */
    private void limitLegacyTokens() {
        if (!read(tokens::anyUnlimited)) {
            return;
        }
        TokenService.Limited limited = writer.submit(new Unit<>(() -> tokens.limitUnlimited(Clocks.now(clock)),
                l -> AuditDraft.by(ACTOR).action("token.expiry-set").target(NAME).details(Map.of(
                        "tokenIds", l.tokenIds(), "expiresAt", l.expiresAt().toString(),
                        "setting", "ltc-secrets.tokens.default-ttl")),
                e -> AuditDraft.by(ACTOR).action("token.expiry-set").target(NAME)
                        .outcome(org.lifetimecircle.secrets.audit.Outcome.FAILED)));
        if (!limited.tokenIds().isEmpty()) {
            LOG.warnf("%d token(s) without an expiry (%s) now expire like any other. %s", limited.tokenIds().size(),
                    String.join(", ", limited.tokenIds()), expiryAndRecovery(limited.expiresAt()));
        }
    }

    private static AuditDraft event(Result r) {
        return switch (r.outcome()) {
            case CREATED -> AuditDraft.by(ACTOR).action("principal.create").target(NAME)
                    .details(Map.of("role", Role.ADMIN.id(), "bootstrap", true, "tokenId", r.tokenId()));
            case RECOVERED -> AuditDraft.by(ACTOR).action("token.create").target(NAME)
                    .details(Map.of("bootstrapRecovery", true, "tokenId", r.tokenId(), "revokedTokens", r.revoked()));
            // Nothing to do is still a start-up fact worth a line: who checked, and that nothing changed.
            case NOTHING -> AuditDraft.by(ACTOR).action("system.bootstrap-check").target(NAME);
        };
    }

    private PrincipalEntity newAdmin() {
        PrincipalEntity p = new PrincipalEntity();
        p.name = NAME;
        p.role = Role.ADMIN;
        p.createdAt = Clocks.now(clock);
        p.createdBy = ACTOR;
        return p;
    }

    private static void writeToken(Path tokenFile, TokenService.Issued issued) {
        try {
            SecureFiles.writeAtomically(tokenFile, (issued.token() + "\n").getBytes(StandardCharsets.US_ASCII),
                    SecureFiles.OWNER_RW);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bootstrap token file " + tokenFile, e);
        }
    }

    private static void deleteRequest(Path requestFile) {
        try {
            SecureFiles.deleteDurably(requestFile);
        } catch (IOException e) {
            // The new token is committed; a leftover request only causes another re-issue next start.
            LOG.errorf("cannot delete %s; delete it by hand or the next start re-issues the token again", requestFile);
        }
    }
}
