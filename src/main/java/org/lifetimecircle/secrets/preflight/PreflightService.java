package org.lifetimecircle.secrets.preflight;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.lifetimecircle.secrets.audit.AuditIntegrity;
import org.lifetimecircle.secrets.audit.VerifyResult;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.crypto.DecryptionFailedException;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileWrites;
import org.lifetimecircle.secrets.policy.AppPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.preflight.PreflightViews.Check;
import org.lifetimecircle.secrets.preflight.PreflightViews.Report;
import org.lifetimecircle.secrets.rotation.AppRestarter;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.RotationDue;
import org.lifetimecircle.secrets.secret.SecretStore;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * The go-live checklist as one call. Each check is PASS, WARN (it does not apply or cannot be
 * decided, with the reason) or FAIL with what to do; {@code go} is true only without a FAIL. It
 * reads and probes, and changes nothing.
 */
@ApplicationScoped
class PreflightService {

    /** Shorter values than this are not a key worth the name (API.md, PRODUCT.md). */
    static final int MIN_SECRET_LENGTH = 32;

    private final LtcSecretsConfig config;
    private final CurrentValues currentValues;
    private final SecretStore store;
    private final EnvFileService files;
    private final EnvFileWrites writes;
    private final AppRestarter app;
    private final AuditIntegrity integrity;
    private final Clock clock;

    PreflightService(LtcSecretsConfig config, CurrentValues currentValues, SecretStore store, EnvFileService files,
                     EnvFileWrites writes, AppRestarter app, AuditIntegrity integrity, Clock clock) {
        this.config = config;
        this.currentValues = currentValues;
        this.store = store;
        this.files = files;
        this.writes = writes;
        this.app = app;
        this.integrity = integrity;
        this.clock = clock;
    }

    Report run(EnvironmentPolicy p) {
        Map<String, CurrentValues.Slot> slots = read(() -> currentValues.slots(p.environment()));
        Path root = config.fileRoot();
        List<Check> checks = new ArrayList<>();
        checks.add(secretsPresent(p, slots));
        checks.add(envFilePresent(p));
        checks.add(envFilePermissions(p));
        checks.add(envFileCurrent(p));
        checks.add(ltcEnv(p));
        checks.add(PathChecks.directory("data-path", p, p.paths().flatMap(x -> x.data()), root));
        checks.add(PathChecks.directory("storage-path", p, p.paths().flatMap(x -> x.storage()), root));
        checks.add(dbPath(p));
        checks.add(notOverdue(p, slots, clock.instant()));
        checks.add(appHealth(p));
        checks.add(auditChain());
        return Report.of(p.environment(), checks);
    }

    private Check secretsPresent(EnvironmentPolicy p, Map<String, CurrentValues.Slot> slots) {
        StringJoiner found = new StringJoiner("; ");
        for (SecretPolicy s : p.secrets().values()) {
            CurrentValues.Slot slot = slots.get(s.name());
            if (slot == null) {
                return Check.fail("secrets-present", s.name() + " has no CURRENT version (restart the service to "
                        + "create version 1, or import the existing value)");
            }
            try (SecretValue v = store.open(slot.current())) {
                if (v.length() < MIN_SECRET_LENGTH) {
                    return Check.fail("secrets-present", s.name() + " version " + slot.current().version + " has "
                            + v.length() + " characters, fewer than " + MIN_SECRET_LENGTH + "; rotate it");
                }
                found.add(s.name() + " version " + slot.current().version + ", " + v.length() + " characters");
            } catch (DecryptionFailedException e) {
                return Check.fail("secrets-present", s.name() + " version " + slot.current().version
                        + " cannot be decrypted with this master key");
            }
        }
        return p.secrets().isEmpty() ? Check.warn("secrets-present", "the policy names no generated secret")
                : Check.pass("secrets-present", found.toString());
    }

    private Check envFilePresent(EnvironmentPolicy p) {
        String problem = files.permissionProblem(p);
        if ("is missing".equals(problem) || "is a symbolic link".equals(problem)
                || "is not a regular file".equals(problem)) {
            return Check.fail("env-file-present", p.envFile().path() + " " + problem + "; write it with POST "
                    + "/api/v1/environments/" + p.environment() + "/env-file/write");
        }
        return Check.pass("env-file-present", p.envFile().path() + " is a regular file");
    }

    private Check envFilePermissions(EnvironmentPolicy p) {
        String problem = files.permissionProblem(p);
        if (problem != null) {
            return Check.fail("env-file-permissions", p.envFile().path() + " " + problem);
        }
        return Check.pass("env-file-permissions", p.envFile().path() + " has mode " + p.envFile().mode().octal()
                + p.envFile().group().map(g -> " and group " + g).orElse("") + ", owned by the service's user");
    }

    private Check envFileCurrent(EnvironmentPolicy p) {
        EnvFileWrites.Rendered rendered;
        try {
            rendered = writes.render(p);
        } catch (ApiException e) {
            return Check.fail("env-file-current", "nothing to compare with: " + e.getMessage());
        }
        try {
            Optional<String> onDisk = files.sha256OnDisk(p);
            if (onDisk.equals(Optional.of(rendered.sha256()))) {
                return Check.pass("env-file-current", "matches the CURRENT versions (" + rendered.secretVersions() + ")");
            }
            if (!files.absentOrOurs(p)) {
                return Check.fail("env-file-current", p.envFile().path() + " was not written by ltc-secrets; adopt its "
                        + "value with POST …/secrets/{name}/import, or remove it");
            }
            String drift = read(() -> files.lastWrite(p.environment())
                    .map(s -> s.drift).orElse(null));
            return Check.fail("env-file-current", p.envFile().path() + (onDisk.isEmpty() ? " cannot be read"
                    : " differs from the CURRENT versions (" + rendered.secretVersions() + ")")
                    + (drift == null ? "" : "; drift: the file " + drift) + "; rewrite it with POST /api/v1/environments/"
                    + p.environment() + "/env-file/write");
        } finally {
            Arrays.fill(rendered.content(), (byte) 0);
        }
    }

    private static Check ltcEnv(EnvironmentPolicy p) {
        String value = p.variables().get("LTC_ENV");
        if (value == null) {
            return Check.warn("ltc-env", "the policy sets no LTC_ENV variable");
        }
        if (!value.equals(p.environment())) {
            return Check.fail("ltc-env", "LTC_ENV is '" + value + "' in the " + p.environment() + " policy; an app "
                    + "would believe it runs in " + value);
        }
        return Check.pass("ltc-env", "LTC_ENV=" + value);
    }

    private static Check dbPath(EnvironmentPolicy p) {
        String db = p.variables().get("LTC_DB_PATH");
        Optional<String> data = p.paths().flatMap(x -> x.data());
        if (db == null || data.isEmpty()) {
            return Check.warn("db-path", db == null ? "the policy sets no LTC_DB_PATH" : "the policy has no paths.data");
        }
        Path dbPath = Path.of(db).normalize();
        if (!dbPath.isAbsolute() || !dbPath.startsWith(Path.of(data.get())) || dbPath.equals(Path.of(data.get()))) {
            return Check.fail("db-path", "LTC_DB_PATH " + db + " is not inside paths.data " + data.get()
                    + ": backups and persistence checks would miss the database");
        }
        String url = p.variables().get("LTC_DATABASE_URL");
        if (url != null && url.startsWith("sqlite") && !url.endsWith(db)) {
            return Check.fail("db-path", "LTC_DATABASE_URL does not point at LTC_DB_PATH " + db);
        }
        return Check.pass("db-path", db + " is inside " + data.get());
    }

    private static Check notOverdue(EnvironmentPolicy p, Map<String, CurrentValues.Slot> slots, Instant now) {
        List<String> overdue = new ArrayList<>();
        List<String> dueSoon = new ArrayList<>();
        for (SecretPolicy s : p.secrets().values()) {
            CurrentValues.Slot slot = slots.get(s.name());
            if (slot == null) {
                continue; // reported by secrets-present
            }
            RotationDue due = RotationDue.of(s, slot.current().createdAt, now);
            if (due.status() == RotationDue.Status.OVERDUE) {
                overdue.add(s.name() + " (due " + due.dueAt() + ")");
            } else if (due.status() == RotationDue.Status.DUE_SOON) {
                dueSoon.add(s.name() + " (due " + due.dueAt() + ")");
            }
        }
        if (!overdue.isEmpty()) {
            return Check.fail("not-overdue", "OVERDUE: " + String.join(", ", overdue) + "; rotate before going live");
        }
        if (!dueSoon.isEmpty()) {
            return Check.warn("not-overdue", "due soon: " + String.join(", ", dueSoon));
        }
        return Check.pass("not-overdue", "no secret is due for rotation");
    }

    private Check appHealth(EnvironmentPolicy p) {
        if (p.app().isEmpty()) {
            return Check.warn("app-health", "the policy has no app section: no health URL to ask");
        }
        AppPolicy a = p.app().get();
        AppRestarter.Outcome outcome = app.probe(a);
        return outcome.ok() ? Check.pass("app-health", a.healthUrl() + " answered 200")
                : Check.fail("app-health", a.healthUrl() + " " + outcome.detail() + "; is the app running?");
    }

    private Check auditChain() {
        VerifyResult r = integrity.checkTail();
        if (!r.valid()) {
            return Check.fail("audit-chain", "the audit chain is broken at seq " + r.firstInvalidSeq() + " ("
                    + r.reason() + "); treat it as an incident (GET /api/v1/audit/verify)");
        }
        return Check.pass("audit-chain", "the newest " + r.events() + " event(s) through seq " + r.headSeq()
                + " and the checkpoints verify");
    }
}
