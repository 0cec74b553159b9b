package org.lifetimecircle.secrets.restorehold;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.files.SecureFiles;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * The hold restore.sh puts on env-file writes: a restored database may name as CURRENT a value that was
 * revoked after the backup (an emergency the backup does not know of). Rewriting the env files from it
 * would hand the leaked key back to the app. So restore.sh leaves the marker {@value #MARKER} in the data
 * directory, and while it is there nothing writes or serves an env file (start-up sync, drift repair,
 * rotations, {@code POST …/env-file/write}, {@code GET …/env-file}) until an admin, having repeated what the
 * backup lacks, releases it with {@code POST /api/v1/admin/env-file-hold/release}. The one exception is an
 * emergency: it writes only values generated after its revocation, and is how a leak the backup predates is
 * repeated while held. The marker is a file, not a row, because the restore
 * happens with the service stopped and must not need to write the restored database.
 */
@ApplicationScoped
public class EnvFileHold {

    /** The marker's name in the data directory; restore.sh writes it (JSON: restoredAt, backupCreatedAt, …). */
    public static final String MARKER = "env-file-hold";

    private static final Logger LOG = Logger.getLogger(EnvFileHold.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    // Facts from the marker go into problems and audit details: only plain timestamps and numbers pass.
    private static final Pattern SAFE = Pattern.compile("[0-9A-Za-z:.+\\-]{1,40}");

    private final LtcSecretsConfig config;
    private final AuditWriter writer;

    EnvFileHold(LtcSecretsConfig config, AuditWriter writer) {
        this.config = config;
        this.writer = writer;
    }

    /** What the marker says; {@code facts} holds only values that passed {@link #SAFE}. */
    public record Hold(Map<String, String> facts) {
        String describe() {
            StringBuilder s = new StringBuilder("env-file writes are held after a restore");
            if (facts.containsKey("backupCreatedAt")) {
                s.append(" of a backup taken ").append(facts.get("backupCreatedAt"));
            }
            if (facts.containsKey("restoredAt")) {
                s.append(" (restored ").append(facts.get("restoredAt")).append(')');
            }
            return s.append(": the restored CURRENT versions may be ones revoked after the backup. Repeat every "
                    + "emergency since the backup's time, then an admin releases the hold with POST "
                    + "/api/v1/admin/env-file-hold/release {reason} (runbooks/restore-from-backup.md)").toString();
        }
    }

    Path marker() {
        return config.dataDir().resolve(MARKER);
    }

    /** The hold in force, if any. Read afresh every time: the marker is the single source of truth. */
    public Optional<Hold> current() {
        Path m = marker();
        if (!Files.exists(m, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Map<String, String> facts = new LinkedHashMap<>();
        // Unreadable or odd content still holds: the marker's presence is what counts.
        if (Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) {
            try (InputStream in = Files.newInputStream(m, LinkOption.NOFOLLOW_LINKS)) {
                JsonNode node = JSON.readTree(in.readNBytes(64 * 1024));
                for (String name : new String[] {"restoredAt", "backupCreatedAt", "backupHeadSeq", "liveHeadSeq"}) {
                    JsonNode v = node == null ? null : node.get(name);
                    if (v != null && v.isValueNode() && SAFE.matcher(v.asText()).matches()) {
                        facts.put(name, v.asText());
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.warnf("env-file hold marker %s is unreadable (%s); the hold stays in force", m,
                        e.getClass().getSimpleName());
            }
        }
        return Optional.of(new Hold(facts));
    }

    public boolean held() {
        return current().isPresent();
    }

    /** Why a write is refused, or empty when writes may go ahead. */
    public Optional<String> refusal() {
        return current().map(Hold::describe);
    }

    /** 409 while the hold is in force: for requests that would write an env file. */
    public void requireReleased() {
        Optional<String> why = refusal();
        if (why.isPresent()) {
            throw ApiException.conflict(why.get());
        }
    }

    /** Removes the marker durably; the caller audits. Returns the hold that was released, if any. */
    Optional<Hold> remove() throws IOException {
        Optional<Hold> hold = current();
        if (hold.isPresent()) {
            // Gone already (released concurrently): the outcome is the same.
            SecureFiles.deleteDurably(marker());
        }
        return hold;
    }

    /** At start (after the start-up sequence): say it in the log and the audit trail. */
    void onStart(@Observes @Priority(5) StartupEvent event) {
        current().ifPresent(hold -> {
            LOG.warnf("%s", hold.describe());
            Map<String, Object> d = new LinkedHashMap<>(hold.facts());
            writer.record(AuditDraft.by(Actors.SYSTEM).action("envfile.hold").details(d));
        });
    }
}
