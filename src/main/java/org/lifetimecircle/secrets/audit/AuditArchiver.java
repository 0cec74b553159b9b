package org.lifetimecircle.secrets.audit;

import org.lifetimecircle.secrets.db.Store;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hibernate.Session;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.crypto.AuditSigner;
import org.lifetimecircle.secrets.crypto.InstallationKeys;
import org.lifetimecircle.secrets.files.SecureFiles;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * Moves the oldest part of the chain (a whole prefix: from the last anchor, or seq 1, up to the last
 * event older than {@code before}) into a signed archive under {@code <data-dir>/audit-archive/}:
 * <ol>
 *   <li>{@code audit-<first>-<last>.jsonl}: the events, byte for byte the JSONL export, checked link
 *       by link while written;</li>
 *   <li>{@code ….jsonl.sig}: Ed25519 (audit key) over the file's 32-byte SHA-256, for
 *       {@code openssl pkeyutl -verify -rawin};</li>
 *   <li>{@code ….anchor.json}: the signed anchor statement (as stored in {@code audit_anchor}).</li>
 * </ol>
 * Each file is written atomically and durably (temporary file, fsync, rename, fsync of the
 * directory, mode 0400) BEFORE one writer unit inserts the anchor and deletes the archived events,
 * with the {@code audit.archive} event after them in the live chain. A crash between the two leaves
 * files whose events are still in the database: they are removed at the next start or archive
 * ({@link #removeLeftovers()}), never a file an anchor names.
 */
@ApplicationScoped
public class AuditArchiver {

    /** The archive directory's name under the data directory. */
    public static final String DIRECTORY = "audit-archive";

    private static final Logger LOG = Logger.getLogger(AuditArchiver.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();
    private static final Pattern ARCHIVE_FILE = Pattern.compile("(audit-(\\d{12,16})-(\\d{12,16}))"
            + "(\\.jsonl|\\.jsonl\\.sig|\\.anchor\\.json)");
    private static final Pattern TEMPORARY = Pattern.compile("\\.audit-.*\\.tmp-[0-9a-f]+");
    private static final int CHUNK_CHARS = 64 * 1024;

    /** What an archive did; all null (and 0 events) when nothing was old enough. */
    @JsonPropertyOrder({"archivedThroughSeq", "file", "sha256", "archivedFromSeq", "events", "hash"})
    public record Result(Long archivedThroughSeq, String file, String sha256, Long archivedFromSeq, long events,
                         String hash) {
        static final Result NOTHING = new Result(null, null, null, null, 0, null);
    }

    /** The prefix to archive: {@code prevHash} is the anchor's hash (or the genesis) the first event must link to. */
    private record Plan(long firstSeq, long lastSeq, String prevHash) {
    }

    private final AgroalDataSource dataSource;
    private final AuditWriter writer;
    private final InstallationKeys keys;
    private final EntityManager em;
    private final LtcSecretsConfig config;
    private final Clock clock;
    private final Store store;
    private final ReentrantLock lock = new ReentrantLock();

    AuditArchiver(AgroalDataSource dataSource, AuditWriter writer, InstallationKeys keys, EntityManager em,
                  LtcSecretsConfig config, Clock clock, Store store) {
        this.store = store;
        this.dataSource = dataSource;
        this.writer = writer;
        this.keys = keys;
        this.em = em;
        this.config = config;
        this.clock = clock;
    }

    /** {@code <data-dir>/audit-archive}. */
    public Path directory() {
        return config.dataDir().resolve(DIRECTORY);
    }

    /** The scheduler's retention step: archives what is older than {@code now - retention}; returns the count. */
    public long applyRetention(Instant now) {
        Optional<java.time.Duration> retention = config.audit().retention();
        if (retention.isEmpty()) {
            return 0;
        }
        Instant before = now.minus(retention.get());
        AuditDraft draft = AuditDraft.by(Actors.SCHEDULER).action("audit.archive");
        return archive(before, "retention " + retention.get(), draft, false).events();
    }

    /**
     * Archives the events older than {@code before}, recording {@code request} (outcome and details
     * filled in here) as the {@code audit.archive} event: exactly one event, also when it fails or
     * finds nothing old enough.
     */
    public Result archive(Instant before, String reason, AuditDraft request) {
        return archive(before, reason, request, true);
    }

    /** {@code recordNothing} false: a run that finds nothing to archive leaves no event (the scheduler's minute). */
    private Result archive(Instant before, String reason, AuditDraft request, boolean recordNothing) {
        Map<String, Object> asked = new LinkedHashMap<>();
        asked.put("before", ChainHash.time(before));
        asked.put("reason", reason);
        lock.lock();
        try {
            Plan plan;
            ArchiveAnchor anchor;
            try {
                removeLeftovers();
                plan = plan(before);
                if (plan == null) {
                    if (recordNothing) {
                        Map<String, Object> d = new LinkedHashMap<>(asked);
                        d.put("events", 0);
                        writer.record(request.withOutcome(Outcome.SUCCESS, d));
                    }
                    return Result.NOTHING;
                }
                anchor = write(plan);
            } catch (AuditUnavailableException e) {
                throw e;
            } catch (RuntimeException e) {
                Map<String, Object> d = new LinkedHashMap<>(asked);
                d.putAll(AuditService.failureDetails(e));
                writer.record(request.withOutcome(AuditService.outcomeOf(e), d));
                throw e;
            }
            return writer.submit(new Unit<>(() -> commit(plan, anchor),
                    r -> request.withOutcome(Outcome.SUCCESS, details(asked, r)),
                    e -> {
                        Map<String, Object> d = new LinkedHashMap<>(asked);
                        d.putAll(AuditService.failureDetails(e));
                        return request.withOutcome(AuditService.outcomeOf(e), d);
                    }));
        } finally {
            lock.unlock();
        }
    }

    private static Map<String, Object> details(Map<String, Object> asked, Result r) {
        Map<String, Object> d = new LinkedHashMap<>(asked);
        d.put("events", r.events());
        d.put("archivedFromSeq", r.archivedFromSeq());
        d.put("archivedThroughSeq", r.archivedThroughSeq());
        d.put("hash", r.hash());
        d.put("file", r.file());
        d.put("sha256", r.sha256());
        return d;
    }

    private Plan plan(Instant before) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Optional<ArchiveAnchor> anchor = latestAnchor(c);
                long first = anchor.map(a -> a.seq() + 1).orElse(1L);
                String prev = anchor.map(ArchiveAnchor::hash).orElse(AuditEvent.GENESIS);
                // A whole prefix only: the first event at or after 'before' ends it, even if a later one
                // is older (the clock stepped back), so the live chain is always one unbroken piece.
                long last;
                try (PreparedStatement ps = c.prepareStatement(
                        "select seq from audit_event where time >= ? order by seq limit 1")) {
                    ps.setString(1, ChainHash.time(before));
                    try (ResultSet rs = ps.executeQuery()) {
                        last = rs.next() ? rs.getLong(1) - 1 : AuditWriter.readHead(c).seq();
                    }
                }
                return last >= first ? new Plan(first, last, prev) : null;
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    /** Writes the three files durably; the chain of the range is verified as it is written. */
    private ArchiveAnchor write(Plan plan) {
        Path dir = directory();
        String name = ArchiveAnchor.fileName(plan.firstSeq(), plan.lastSeq());
        String base = name.substring(0, name.length() - ".jsonl".length());
        MessageDigest sha256 = sha256();
        String[] lastHash = new String[1];
        try {
            SecureFiles.ensureDirectory(dir, SecureFiles.OWNER_DIR);
            SecureFiles.writeAtomically(dir.resolve(name), SecureFiles.OWNER_R, out -> {
                DigestOutputStream digesting = new DigestOutputStream(out, sha256);
                lastHash[0] = writeEvents(plan, digesting);
                digesting.flush();
            });
            byte[] digest = sha256.digest();
            AuditSigner signer = keys.signer();
            SecureFiles.writeAtomically(dir.resolve(name + ".sig"), signer.sign(digest), SecureFiles.OWNER_R);
            String signedAt = ChainHash.time(clock.instant());
            String hex = HEX.formatHex(digest);
            String message = ArchiveAnchor.message(plan.firstSeq(), plan.lastSeq(), lastHash[0], name, hex, signedAt);
            ArchiveAnchor anchor = new ArchiveAnchor(plan.firstSeq(), plan.lastSeq(), lastHash[0], name, hex, signedAt,
                    message, Base64.getEncoder().encodeToString(signer.sign(message.getBytes(StandardCharsets.UTF_8))),
                    signer.publicKeyPem());
            SecureFiles.writeAtomically(dir.resolve(base + ".anchor.json"), JSON.writeValueAsBytes(anchor),
                    SecureFiles.OWNER_R);
            return anchor;
        } catch (IOException e) {
            LOG.errorf("audit archive: cannot write %s in %s (%s)", name, dir, e.getClass().getSimpleName());
            throw new UncheckedIOException("cannot write the audit archive", e);
        }
    }

    /** Streams the range as JSONL lines, checking each link and hash; returns the last hash. */
    private String writeEvents(Plan plan, OutputStream out) throws IOException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Map<Long, String> checkpoints = new HashMap<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "select seq, hash from audit_checkpoint where seq between ? and ?")) {
                    ps.setLong(1, plan.firstSeq());
                    ps.setLong(2, plan.lastSeq());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            checkpoints.put(rs.getLong(1), rs.getString(2));
                        }
                    }
                }
                String prev = plan.prevHash();
                long expected = plan.firstSeq();
                StringBuilder chunk = new StringBuilder(CHUNK_CHARS + 4096);
                EventRows rows = new EventRows();
                ChainHash.Hasher hasher = new ChainHash.Hasher();
                String[] f = new String[EventRows.TEXT_COLUMNS];
                try (PreparedStatement ps = c.prepareStatement(EventRows.select(store) + " where seq between ? and ? order by seq")) {
                    ps.setLong(1, plan.firstSeq());
                    ps.setLong(2, plan.lastSeq());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            AuditEvent e = rows.event(rs.getBytes(1), f);
                            if (e.seq() != expected || !e.prevHash().equals(prev)
                                    || !hasher.hash(e.seq(), f, rows.escaped()).equals(e.hash())
                                    || (checkpoints.containsKey(e.seq()) && !checkpoints.get(e.seq()).equals(e.hash()))) {
                                throw brokenChain(expected);
                            }
                            ExportFormat.jsonl(chunk, e, rows.escaped());
                            chunk.append('\n');
                            if (chunk.length() >= CHUNK_CHARS) {
                                out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
                                chunk.setLength(0);
                            }
                            prev = e.hash();
                            expected++;
                        }
                    }
                }
                if (expected != plan.lastSeq() + 1) {
                    throw brokenChain(expected);
                }
                out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
                return prev;
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IOException("cannot read the audit trail", e);
        }
    }

    private static ApiException brokenChain(long seq) {
        return ApiException.conflict("the audit chain does not verify at seq " + seq
                + "; nothing was archived (see GET /api/v1/audit/verify)");
    }

    /** Runs on the writer: anchor in, archived events out, in the transaction of the audit.archive event. */
    private Result commit(Plan plan, ArchiveAnchor anchor) {
        long[] deleted = new long[1];
        em.unwrap(Session.class).doWork(c -> {
            if (latestAnchor(c).map(ArchiveAnchor::seq).orElse(0L) != plan.firstSeq() - 1) {
                throw ApiException.conflict("another archive completed first; try again");
            }
            try (PreparedStatement ps = c.prepareStatement("select hash from audit_event where seq = ?")) {
                ps.setLong(1, plan.lastSeq());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !rs.getString(1).equals(anchor.hash())) {
                        throw brokenChain(plan.lastSeq());
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into audit_anchor (seq, hash, first_seq, file, "
                    + "sha256, signed_at, message, signature, public_key) values (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setLong(1, anchor.seq());
                ps.setString(2, anchor.hash());
                ps.setLong(3, anchor.firstSeq());
                ps.setString(4, anchor.file());
                ps.setString(5, anchor.sha256());
                ps.setString(6, anchor.signedAt());
                ps.setString(7, anchor.message());
                ps.setBytes(8, Base64.getDecoder().decode(anchor.signature()));
                ps.setString(9, anchor.publicKeyPem());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("delete from audit_event where seq between ? and ?")) {
                ps.setLong(1, plan.firstSeq());
                ps.setLong(2, plan.lastSeq());
                deleted[0] = ps.executeUpdate();
            }
            if (deleted[0] != plan.lastSeq() - plan.firstSeq() + 1) {
                throw brokenChain(plan.firstSeq());
            }
        });
        return new Result(plan.lastSeq(), anchor.file(), anchor.sha256(), plan.firstSeq(), deleted[0], anchor.hash());
    }

    /**
     * Removes what an interrupted archive left: temporary files, and archive files no anchor names
     * whose events were never deleted (they start after the last anchor). A file an anchor names, or
     * one that would hold deleted events, is never removed.
     */
    public void removeLeftovers() {
        Path dir = directory();
        if (!Files.isDirectory(dir)) {
            return;
        }
        lock.lock();
        try (Connection c = dataSource.getConnection()) {
            Set<String> named = new HashSet<>();
            long latest = 0;
            for (ArchiveAnchor a : anchors(c)) {
                named.add(a.file());
                latest = Math.max(latest, a.seq());
            }
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                ds.forEach(entries::add);
            }
            for (Path p : entries) {
                String n = p.getFileName().toString();
                if (TEMPORARY.matcher(n).matches()) {
                    SecureFiles.deleteDurably(p);
                    continue;
                }
                Matcher m = ARCHIVE_FILE.matcher(n);
                if (!m.matches() || named.contains(m.group(1) + ".jsonl")) {
                    continue;
                }
                if (Long.parseLong(m.group(2)) > latest) {
                    SecureFiles.deleteDurably(p);
                    LOG.infof("audit archive: removed %s, left by an archive that did not complete (its events are "
                            + "still in the database)", n);
                } else {
                    LOG.warnf("audit archive: %s is named by no anchor but covers archived seqs; left in place", n);
                }
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot tidy " + dir + " (" + e.getClass().getSimpleName() + ")", e);
        } finally {
            lock.unlock();
        }
    }

    /** The newest anchor: where the live chain starts. */
    static Optional<ArchiveAnchor> latestAnchor(Connection c) throws SQLException {
        List<ArchiveAnchor> all = anchors(c);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Every anchor, oldest first. */
    static List<ArchiveAnchor> anchors(Connection c) throws SQLException {
        List<ArchiveAnchor> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select first_seq, seq, hash, file, sha256, signed_at, message, "
                + "signature, public_key from audit_anchor order by seq");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new ArchiveAnchor(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7),
                        Base64.getEncoder().encodeToString(rs.getBytes(8)), rs.getString(9)));
            }
        }
        return out;
    }

    /** Why an anchor is not this installation's signed statement of its own fields; null if it is. */
    static String anchorProblem(ArchiveAnchor a, byte[] publicKey) {
        String expected = ArchiveAnchor.message(a.firstSeq(), a.seq(), a.hash(), a.file(), a.sha256(), a.signedAt());
        if (!expected.equals(a.message())
                || !AuditSigner.verify(publicKey, a.message().getBytes(StandardCharsets.UTF_8),
                Base64.getDecoder().decode(a.signature()))) {
            return "the archive anchor at seq " + a.seq() + " is not validly signed";
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
