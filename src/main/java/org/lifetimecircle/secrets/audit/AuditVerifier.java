package org.lifetimecircle.secrets.audit;

import org.lifetimecircle.secrets.db.Store;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.lifetimecircle.secrets.crypto.AuditSigner;
import org.lifetimecircle.secrets.crypto.InstallationKeys;

/**
 * Re-checks the chain from the database: seqs without gaps, each prevHash linking to the hash
 * before, each hash recomputed, and every stored checkpoint both correctly signed by this
 * installation's key and matching the event at its seq. Checkpoints are what expose truncation and
 * a re-hashed forgery, which a chain alone cannot. Streams rows; memory does not grow with the log.
 * After an archive the live chain starts at the newest anchor: every anchor must be validly signed,
 * and the first remaining event must follow the anchor's seq and link to its hash.
 */
@ApplicationScoped
public class AuditVerifier {

    private final String select;

    private final AgroalDataSource dataSource;
    private final InstallationKeys keys;

    AuditVerifier(AgroalDataSource dataSource, InstallationKeys keys, Store store) {
        this.select = EventRows.select(store) + " where seq >= ? order by seq";
        this.dataSource = dataSource;
        this.keys = keys;
    }

    /** Verifies the whole live chain: from the latest signed archive anchor, or from seq 1. */
    public VerifyResult verifyAll() {
        try (Connection c = dataSource.getConnection()) {
            return verify(c, -1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    /** Verifies the whole live chain on {@code c} (an {@link AuditExports} slot's connection, not a pooled one). */
    public VerifyResult verifyAll(Connection c) {
        try {
            return verify(c, -1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    /**
     * Verifies the last {@code count} events (start-up check), taking the first one's prevHash as given
     * unless the tail reaches back to the anchor (or seq 1).
     */
    public VerifyResult verifyTail(long count) {
        try (Connection c = dataSource.getConnection()) {
            return verify(c, count);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    private VerifyResult verify(Connection c, long tail) throws SQLException {
        // One read transaction: the chain, the anchors and the checkpoints come from the same snapshot.
        c.setAutoCommit(false);
        try {
            byte[] publicKey = keys.signer().publicKeyRaw();
            ArchiveAnchor anchor = null;
            for (ArchiveAnchor a : AuditArchiver.anchors(c)) {
                String problem = AuditArchiver.anchorProblem(a, publicKey);
                if (problem != null) {
                    return new VerifyResult(false, 0, 0, null, a.seq(), problem, a.seq(), a.file());
                }
                anchor = a;
            }
            Long archivedThrough = anchor == null ? null : anchor.seq();
            String anchorFile = anchor == null ? null : anchor.file();
            long start = anchor == null ? 1 : anchor.seq() + 1;
            String startPrev = anchor == null ? AuditEvent.GENESIS : anchor.hash();
            long from = start;
            if (tail >= 0) {
                from = Math.max(start, AuditWriter.readHead(c).seq() - tail + 1);
            }
            Map<Long, CheckpointRow> checkpoints = new HashMap<>();
            long maxCheckpointSeq = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, hash, signed_at, message, signature from audit_checkpoint order by id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    CheckpointRow cp = new CheckpointRow(rs.getLong(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), rs.getBytes(5));
                    if (!cp.message.equals(Checkpoint.message(cp.seq, cp.hash, cp.signedAt))
                            || !AuditSigner.verify(publicKey, cp.message.getBytes(StandardCharsets.UTF_8), cp.signature)) {
                        return new VerifyResult(false, 0, 0, null, cp.seq, "checkpoint at seq " + cp.seq
                                + " is not validly signed", archivedThrough, anchorFile);
                    }
                    // A checkpoint inside an archive was compared with its event when the archive was
                    // written; one at the anchor's seq must name the anchor's hash.
                    if (anchor != null && cp.seq == anchor.seq() && !cp.hash.equals(anchor.hash())) {
                        return new VerifyResult(false, 0, 0, null, cp.seq, "the archive anchor at seq " + cp.seq
                                + " differs from the signed checkpoint of " + cp.signedAt, archivedThrough, anchorFile);
                    }
                    checkpoints.put(cp.seq, cp);
                    maxCheckpointSeq = Math.max(maxCheckpointSeq, cp.seq);
                }
            }
            Anchored at = new Anchored(from, from == start ? startPrev : null, archivedThrough, anchorFile);
            return chain(c, at, checkpoints, maxCheckpointSeq);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    /** Where verification starts: {@code prev} is the hash the first event must link to, null if taken as given. */
    private record Anchored(long from, String prev, Long archivedThrough, String anchorFile) {
    }

    private VerifyResult chain(Connection c, Anchored at, Map<Long, CheckpointRow> checkpoints, long maxCheckpointSeq)
            throws SQLException {
        long from = at.from();
        long count = 0;
        long expectedSeq = from;
        String prev = at.prev();
        String lastHash = at.prev();
        long lastSeq = from - 1;
        ChainHash.Hasher hasher = new ChainHash.Hasher();
        EventRows rows = new EventRows();
        String[] f = new String[EventRows.TEXT_COLUMNS];
        try (PreparedStatement ps = c.prepareStatement(select)) {
            ps.setLong(1, from);
            try (ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
                for (byte[] row = ahead.next(); row != null; row = ahead.next()) {
                    long seq = rows.read(row, f);
                    String prevHash = f[EventRows.PREV_HASH];
                    String hash = f[EventRows.HASH];
                    if (seq != expectedSeq) {
                        return invalid(at, count, lastSeq, lastHash, expectedSeq,
                                "seq " + expectedSeq + " is missing (next stored is " + seq + ")");
                    }
                    if (prev != null && !prev.equals(prevHash)) {
                        return invalid(at, count, lastSeq, lastHash, seq, "prevHash of seq " + seq
                                + " does not match the hash of seq " + (seq - 1));
                    }
                    String recomputed = hasher.hash(seq, f, rows.escaped());
                    if (!recomputed.equals(hash)) {
                        return invalid(at, count, lastSeq, lastHash, seq, "hash of seq " + seq + " does not match its content");
                    }
                    CheckpointRow cp = checkpoints.get(seq);
                    if (cp != null && !cp.hash.equals(hash)) {
                        return invalid(at, count, lastSeq, lastHash, seq,
                                "seq " + seq + " differs from the signed checkpoint of " + cp.signedAt);
                    }
                    count++;
                    prev = hash;
                    lastHash = hash;
                    lastSeq = seq;
                    expectedSeq = seq + 1;
                }
            }
        }
        if (maxCheckpointSeq > lastSeq) {
            return invalid(at, count, lastSeq, lastHash, lastSeq + 1, "events up to seq " + maxCheckpointSeq
                    + " were signed but the trail ends at seq " + lastSeq + " (truncated)");
        }
        return new VerifyResult(true, count, lastSeq, lastHash == null ? AuditEvent.GENESIS : lastHash, null, null,
                at.archivedThrough(), at.anchorFile());
    }

    private static VerifyResult invalid(Anchored at, long count, long lastSeq, String lastHash, long firstInvalid,
                                        String reason) {
        return new VerifyResult(false, count, lastSeq, lastHash, firstInvalid, reason, at.archivedThrough(),
                at.anchorFile());
    }

    private record CheckpointRow(long seq, String hash, String signedAt, String message, byte[] signature) {
    }
}
