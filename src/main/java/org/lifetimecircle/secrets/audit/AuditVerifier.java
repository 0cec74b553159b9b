package org.lifetimecircle.secrets.audit;

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

/**
 * Re-checks the chain from the database: seqs without gaps, each prevHash linking to the hash
 * before, each hash recomputed, and every stored checkpoint both correctly signed by this
 * installation's key and matching the event at its seq. Checkpoints are what expose truncation and
 * a re-hashed forgery, which a chain alone cannot. Streams rows; memory does not grow with the log.
 */
@ApplicationScoped
public class AuditVerifier {

    private static final String SELECT = EventRows.SELECT + " where seq >= ? order by seq";

    private final AgroalDataSource dataSource;
    private final InstallationKeys keys;

    AuditVerifier(AgroalDataSource dataSource, InstallationKeys keys) {
        this.dataSource = dataSource;
        this.keys = keys;
    }

    /** Verifies the whole chain. */
    public VerifyResult verifyAll() {
        return verifyFrom(1, true);
    }

    /** Verifies the last {@code count} events (start-up check), taking the first one's prevHash as given. */
    public VerifyResult verifyTail(long count) {
        try (Connection c = dataSource.getConnection()) {
            long head = AuditWriter.readHead(c).seq();
            long from = Math.max(1, head - count + 1);
            return verify(c, from, from == 1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    private VerifyResult verifyFrom(long from, boolean anchoredAtGenesis) {
        try (Connection c = dataSource.getConnection()) {
            return verify(c, from, anchoredAtGenesis);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit trail", e);
        }
    }

    private VerifyResult verify(Connection c, long from, boolean anchoredAtGenesis) throws SQLException {
        // One read transaction: the chain and the checkpoints come from the same snapshot.
        c.setAutoCommit(false);
        try {
            Map<Long, CheckpointRow> checkpoints = new HashMap<>();
            long maxCheckpointSeq = 0;
            byte[] publicKey = keys.signer().publicKeyRaw();
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, hash, signed_at, message, signature from audit_checkpoint order by id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    CheckpointRow cp = new CheckpointRow(rs.getLong(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), rs.getBytes(5));
                    if (!cp.message.equals(Checkpoint.message(cp.seq, cp.hash, cp.signedAt))
                            || !AuditSigner.verify(publicKey, cp.message.getBytes(StandardCharsets.UTF_8), cp.signature)) {
                        return invalid(0, 0, null, cp.seq, "checkpoint at seq " + cp.seq + " is not validly signed");
                    }
                    checkpoints.put(cp.seq, cp);
                    maxCheckpointSeq = Math.max(maxCheckpointSeq, cp.seq);
                }
            }
            long count = 0;
            long expectedSeq = from;
            String prev = anchoredAtGenesis ? AuditEvent.GENESIS : null;
            String lastHash = null;
            long lastSeq = from - 1;
            ChainHash.Hasher hasher = new ChainHash.Hasher();
            EventRows rows = new EventRows();
            String[] f = new String[EventRows.TEXT_COLUMNS];
            try (PreparedStatement ps = c.prepareStatement(SELECT)) {
                ps.setLong(1, from);
                try (ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
                    for (byte[] row = ahead.next(); row != null; row = ahead.next()) {
                        long seq = rows.read(row, f);
                        String prevHash = f[EventRows.PREV_HASH];
                        String hash = f[EventRows.HASH];
                        if (seq != expectedSeq) {
                            return invalid(count, lastSeq, lastHash, expectedSeq,
                                    "seq " + expectedSeq + " is missing (next stored is " + seq + ")");
                        }
                        if (prev != null && !prev.equals(prevHash)) {
                            return invalid(count, lastSeq, lastHash, seq, "prevHash of seq " + seq
                                    + " does not match the hash of seq " + (seq - 1));
                        }
                        String recomputed = hasher.hash(seq, f[EventRows.TIME], f[EventRows.ACTOR],
                                f[EventRows.ACTION], f[EventRows.ENVIRONMENT], f[EventRows.TARGET], f[EventRows.OUTCOME],
                                f[EventRows.REQUEST_ID], f[EventRows.SOURCE_IP], f[EventRows.DETAILS], prevHash);
                        if (!recomputed.equals(hash)) {
                            return invalid(count, lastSeq, lastHash, seq, "hash of seq " + seq + " does not match its content");
                        }
                        CheckpointRow cp = checkpoints.get(seq);
                        if (cp != null && !cp.hash.equals(hash)) {
                            return invalid(count, lastSeq, lastHash, seq,
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
                return invalid(count, lastSeq, lastHash, lastSeq + 1, "events up to seq " + maxCheckpointSeq
                        + " were signed but the trail ends at seq " + lastSeq + " (truncated)");
            }
            return new VerifyResult(true, count, lastSeq, lastHash == null ? AuditEvent.GENESIS : lastHash, null, null);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private static VerifyResult invalid(long count, long lastSeq, String lastHash, long firstInvalid, String reason) {
        return new VerifyResult(false, count, lastSeq, lastHash, firstInvalid, reason);
    }

    private record CheckpointRow(long seq, String hash, String signedAt, String message, byte[] signature) {
    }
}
