package org.lifetimecircle.secrets.access;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import org.jboss.logging.Logger;
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
    private static final String ACTOR = "system";
    private static final Logger LOG = Logger.getLogger(BootstrapAdmin.class);

    private final PrincipalRepository principals;
    private final TokenService tokens;
    private final LtcSecretsConfig config;
    private final Clock clock;

    BootstrapAdmin(PrincipalRepository principals, TokenService tokens, LtcSecretsConfig config, Clock clock) {
        this.principals = principals;
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
        // The file is written inside the transaction, before the commit: a crash in between leaves
        // no principal behind, so the next start bootstraps again instead of locking everyone out.
        Outcome outcome = QuarkusTransaction.requiringNew().call(() -> {
            if (principals.count() == 0) {
                PrincipalEntity admin = new PrincipalEntity();
                admin.name = NAME;
                admin.role = Role.ADMIN;
                admin.createdAt = Clocks.now(clock);
                admin.createdBy = ACTOR;
                principals.persist(admin);
                writeToken(tokenFile, tokens.issueUnlimited(admin, ACTOR));
                return Outcome.CREATED;
            }
            if (Files.exists(requestFile, LinkOption.NOFOLLOW_LINKS)) {
                PrincipalEntity admin = principals.findByName(NAME).orElseGet(() -> {
                    PrincipalEntity p = new PrincipalEntity();
                    p.name = NAME;
                    p.role = Role.ADMIN;
                    p.createdAt = Clocks.now(clock);
                    p.createdBy = ACTOR;
                    principals.persist(p);
                    return p;
                });
                // Root asked for it: this brings a disabled bootstrap admin back, deliberately.
                admin.disabledAt = null;
                admin.disabledBy = null;
                admin.disabledReason = null;
                int revoked = tokens.revokeAll(admin, ACTOR);
                writeToken(tokenFile, tokens.issueUnlimited(admin, ACTOR));
                LOG.warnf("bootstrap recovery: revoked %d token(s) of %s, wrote a new token to %s", revoked, NAME, tokenFile);
                return Outcome.RECOVERED;
            }
            return Outcome.NOTHING;
        });
        switch (outcome) {
            case CREATED -> LOG.infof("created principal %s; its token is in %s (mode 0600): read it, then delete the file",
                    NAME, tokenFile);
            case RECOVERED -> deleteRequest(requestFile);
            case NOTHING -> { }
        }
        return outcome;
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
