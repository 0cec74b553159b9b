package org.lifetimecircle.secrets.startup;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.access.BootstrapAdmin;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditArchiver;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditIntegrity;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.crypto.InstallationKeys;
import org.lifetimecircle.secrets.audit.VerifyResult;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.crypto.DecryptionFailedException;
import org.lifetimecircle.secrets.crypto.MasterKeyException;
import org.lifetimecircle.secrets.crypto.MasterKeys;
import org.lifetimecircle.secrets.db.Migrations;
import org.lifetimecircle.secrets.ha.Leadership;
import org.lifetimecircle.secrets.files.SecureFiles;
import org.lifetimecircle.secrets.masterkey.MasterKeyRewrap;
import org.lifetimecircle.secrets.masterkey.RewrapRefusedException;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.PolicyException;
import org.lifetimecircle.secrets.rotation.RotationStartup;
import org.lifetimecircle.secrets.secret.SecretMetrics;

/**
 * Brings the service up in an order that fails early and clearly: configuration, data directory,
 * master key (and the previous one, during a master-key rotation), policies, schema; then, once this instance
 * is the active one ({@link Leadership}: at once on SQLite, on a shared PostgreSQL store when it holds the lock),
 * audit writer,
 * re-wrap under the new master key, installation keys, audit trail check, bootstrap admin, then
 * secrets: interrupted rotations recovered, INITIAL versions created, env files brought up to date.
 * Any refusal stops the start with one message that says what is wrong and how to fix it.
 */
@ApplicationScoped
public class StartupSequence {

    private static final Logger LOG = Logger.getLogger(StartupSequence.class);
    /** BootstrapAdmin's token file, in the data directory. */
    private static final String TOKEN_FILE = "bootstrap-admin.token";

    private final LtcSecretsConfig config;
    private final MasterKeys masterKeys;
    private final EnvironmentRegistry environments;
    private final Migrations migrations;
    private final BootstrapAdmin bootstrap;
    private final InstallationKeys installationKeys;
    private final AuditWriter writer;
    private final AuditArchiver archiver;
    private final AuditIntegrity integrity;
    private final RotationStartup rotations;
    private final SecretMetrics secretMetrics;
    private final Event<DataReady> dataReady;
    private final MasterKeyRewrap rewrap;
    private final Leadership leadership;
    /** How long each step took, for the debug log (docs/performance.md profiles a start with it). */
    private final StepTimes steps = new StepTimes();
    private volatile boolean prepared;
    private volatile boolean started;

    StartupSequence(LtcSecretsConfig config, MasterKeys masterKeys, EnvironmentRegistry environments, Migrations migrations,
                    BootstrapAdmin bootstrap, InstallationKeys installationKeys, AuditWriter writer,
                    AuditIntegrity integrity, RotationStartup rotations, SecretMetrics secretMetrics,
                    Event<DataReady> dataReady, AuditArchiver archiver, MasterKeyRewrap rewrap, Leadership leadership) {
        this.leadership = leadership;
        this.archiver = archiver;
        this.dataReady = dataReady;
        this.rewrap = rewrap;
        this.rotations = rotations;
        this.secretMetrics = secretMetrics;
        this.installationKeys = installationKeys;
        this.writer = writer;
        this.integrity = integrity;
        this.config = config;
        this.masterKeys = masterKeys;
        this.environments = environments;
        this.migrations = migrations;
        this.bootstrap = bootstrap;
    }

    void onStart(@Observes @Priority(1) StartupEvent event) {
        long t0 = System.nanoTime();
        steps.start();
        try {
            ConfigCheck.validate(config);
            dataDirectory();
            interruptedFirstStart();
            DatabaseFiles.makePrivate(ConfigProvider.getConfig()
                    .getOptionalValue("quarkus.datasource.jdbc.url", String.class));
            steps.done("config and data directory");
            masterKeys.load(config.effectiveMasterKeyFile(), config.createMasterKey());
            // Loaded (and checked) as early as the master key, so a bad file stops the start before anything else.
            config.previousMasterKeyFile().ifPresent(masterKeys::loadPrevious);
            steps.done("master key");
            environments.load(config.policiesDir(), AppOverrides.effective(config, io.quarkus.runtime.LaunchMode.current(),
                    io.quarkus.runtime.configuration.ConfigUtils.getProfiles()));
            steps.done("policies");
            migrate();
            steps.done("schema");
        } catch (MasterKeyException | PolicyException | StartupRefusedException e) {
            LOG.errorf("ltc-secrets refused to start: %s", e.getMessage());
            throw new StartupRefusedException(e.getMessage());
        }
        prepared = true;
        // Everything below writes: only the active instance does it (ha/Leadership). On SQLite, and on PostgreSQL
        // when no other instance holds the lock, that is now, on this thread; else when this standby takes over.
        leadership.lead(() -> activate(t0));
    }

    /** The part of the start that writes, run once this instance is the active one. */
    private void activate(long t0) {
        try {
            // The writer starts before the installation keys are loaded: a master-key rotation re-wraps them
            // (and every data key) as one audited unit of the writer, and only then can they open.
            steps.start(); // on a standby, the wait for the lock is not a step
            writer.start();
            steps.done("audit writer");
            Optional<MasterKeyRewrap.Result> rewrapped = rewrap.run();
            steps.done("re-wrap check");
            boolean keysCreated = installationKeys();
            steps.done("installation keys");
            // Before the chain is checked: files of an archive a crash interrupted (its events are still here).
            archiver.removeLeftovers();
            VerifyResult chain = integrity.checkTail();
            steps.done("audit chain tail");
            writer.record(AuditDraft.by(Actors.SYSTEM).action("system.start")
                    .details(startDetails(keysCreated, chain, rewrapped)));
            steps.done("system.start event");
            bootstrap.run();
            steps.done("bootstrap admin");
            rotations.run();
            steps.done("rotations and env files");
            secretMetrics.register();
            dataReady.fire(new DataReady()); // the scheduler's meters register here
            steps.done("metrics");
        } catch (MasterKeyException | PolicyException | RewrapRefusedException | StartupRefusedException e) {
            LOG.errorf("ltc-secrets refused to start: %s", e.getMessage());
            throw new StartupRefusedException(e.getMessage());
        }
        started = true;
        LOG.infof("ltc-secrets ready in %d ms: %d environment(s), data dir %s, master key %s",
                (System.nanoTime() - t0) / 1_000_000, environments.all().size(), config.dataDir().toAbsolutePath(),
                masterKeys.keyId().orElse("?"));
        LOG.debugf("start-up steps: %s", steps);
    }

    /** The schema brought up to date; a store that cannot be reached or logged in to stops the start with its reason. */
    private void migrate() {
        try {
            migrations.migrate();
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof java.sql.SQLException sql && sql.getMessage() != null) {
                    // The driver's words (e.g. "FATAL: password authentication failed for user ..."): they name the
                    // user, host and database, never the password (ConfigCheck keeps it out of the URL).
                    throw new StartupRefusedException("cannot open the " + config.store().kind().name().toLowerCase()
                            + " store: " + sql.getMessage().strip().replaceAll("\\s+", " "));
                }
            }
            throw e;
        }
    }

    private boolean installationKeys() {
        try {
            return installationKeys.loadOrCreate();
        } catch (DecryptionFailedException e) {
            // The data was sealed under another key: starting would make every secret unreadable.
            throw new StartupRefusedException("the master key " + config.effectiveMasterKeyFile() + " (id "
                    + masterKeys.keyId().orElse("?") + ") does not open the keys stored in " + config.dataDir()
                    + sealedUnder() + "; start with the master key the data is sealed under (to change keys, set"
                    + " ltc-secrets.master-key-file to the new key and ltc-secrets.previous-master-key-file to the"
                    + " old one)");
        }
    }

    /** Which key ids the stored data needs, for the refusal; a damaged header must not hide the refusal itself. */
    private String sealedUnder() {
        try {
            return " (they are sealed under " + String.join(", ", rewrap.inventory().keySet()) + ")";
        } catch (RuntimeException e) {
            return "";
        }
    }

    private Map<String, Object> startDetails(boolean keysCreated, VerifyResult chain,
                                             Optional<MasterKeyRewrap.Result> rewrapped) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("environments", environments.all().stream().map(p -> p.environment()).toList());
        d.put("masterKeyId", masterKeys.keyId().orElse(null));
        // A restart with the previous key still configured says here, not in another masterkey.rewrap
        // event each time, that there was nothing left to re-wrap (rewrappedKeys 0).
        rewrapped.ifPresent(r -> {
            d.put("previousMasterKeyId", r.previousKeyId());
            d.put("rewrappedKeys", r.rewrapped().total());
        });
        d.put("installationKeysCreated", keysCreated);
        if (leadership.epoch() > 0) {
            // Shared PostgreSQL store: which instance took over, with which epoch (every event up to the next
            // system.start is this instance's).
            d.put("instance", leadership.self());
            d.put("haEpoch", leadership.epoch());
        }
        d.put("auditChainValid", chain.valid());
        if (!chain.valid()) {
            d.put("auditChainFirstInvalidSeq", chain.firstInvalidSeq());
        }
        if (chain.archivedThroughSeq() != null) {
            d.put("auditArchivedThroughSeq", chain.archivedThroughSeq());
        }
        return d;
    }

    /**
     * Whether the sequence completed (health, scheduler): on the active instance only, since the writing part
     * runs only there.
     */
    public boolean started() {
        return started;
    }

    /**
     * Whether the part every instance runs (configuration, data directory, master key, policies, schema)
     * completed: all a standby does (its health).
     */
    public boolean prepared() {
        return prepared;
    }

    /**
     * Removes the temporary files of a write a kill interrupted (the bootstrap token, a created master key):
     * nothing else ever removes them, and a half-written token or key file has no use.
     */
    private void interruptedFirstStart() {
        try {
            int removed = SecureFiles.removeLeftoverTemporaries(config.dataDir(), TOKEN_FILE);
            Path keyFile = config.effectiveMasterKeyFile().toAbsolutePath();
            // Only where this service creates the key; in prod the key's directory is systemd's, read-only.
            if (config.createMasterKey() && keyFile.getParent() != null) {
                removed += SecureFiles.removeLeftoverTemporaries(keyFile.getParent(),
                        keyFile.getFileName().toString());
            }
            if (removed > 0) {
                LOG.infof("removed %d temporary file(s) an interrupted start left behind", removed);
            }
        } catch (IOException e) {
            throw new StartupRefusedException("cannot remove the temporary files an interrupted start left in "
                    + config.dataDir() + ": " + e.getClass().getSimpleName());
        }
    }

    private void dataDirectory() {
        Path dir = config.dataDir();
        try {
            SecureFiles.ensureDirectory(dir, SecureFiles.OWNER_DIR);
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir)) {
                throw new StartupRefusedException("data directory " + dir + " is not a directory");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (mode.contains(PosixFilePermission.OTHERS_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
                throw new StartupRefusedException("data directory " + dir
                        + " is writable by group or others; run: chmod 0700 " + dir);
            }
            if (!Files.isWritable(dir)) {
                throw new StartupRefusedException("data directory " + dir + " is not writable by this user");
            }
        } catch (IOException e) {
            throw new StartupRefusedException("cannot create data directory " + dir + ": " + e.getClass().getSimpleName());
        }
    }
}
