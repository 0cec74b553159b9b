package org.lifetimecircle.secrets.audit;

import org.lifetimecircle.secrets.db.Store;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the trail with plain JDBC: pages of events, and exports streamed row by row from one
 * read snapshot, so an export of millions of events needs no more memory than one of ten.
 */
@ApplicationScoped
public class AuditReader {

    /** Export chunk size, that of the HTTP output buffer (quarkus.rest.output-buffer-size). */
    private static final int CHUNK_CHARS = 64 * 1024;

    private final AgroalDataSource dataSource;
    private final Store store;

    AuditReader(AgroalDataSource dataSource, Store store) {
        this.store = store;
        this.dataSource = dataSource;
    }

    /** Events with seq greater than {@code after}, in seq order, optionally filtered. */
    public List<AuditEvent> page(long after, int limit, String action, String environment) {
        StringBuilder sql = new StringBuilder(EventRows.select(store) + " where seq > ?");
        if (action != null) {
            sql.append(" and action = ?");
        }
        if (environment != null) {
            sql.append(" and environment = ?");
        }
        sql.append(" order by seq limit ?");
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            ps.setLong(i++, after);
            if (action != null) {
                ps.setString(i++, action);
            }
            if (environment != null) {
                ps.setString(i++, environment);
            }
            ps.setInt(i, limit);
            List<AuditEvent> events = new ArrayList<>();
            EventRows rows = new EventRows();
            String[] fields = new String[EventRows.TEXT_COLUMNS];
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.add(rows.event(rs.getBytes(1), fields));
                }
            }
            return events;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read audit events", e);
        }
    }

    /** An export in progress: a read snapshot and what its last event is. Must be streamed or closed. */
    public final class Export implements AutoCloseable {
        private final Connection connection;
        private final Runnable release;
        private final String from;
        private final String to;
        private final ChainHead last;
        private final ChainHead start;
        private final String anchorFile;

        private Export(Connection connection, Runnable release, String from, String to, ChainHead last,
                       ChainHead start, String anchorFile) {
            this.connection = connection;
            this.release = release;
            this.from = from;
            this.to = to;
            this.last = last;
            this.start = start;
            this.anchorFile = anchorFile;
        }

        /**
         * Where the live chain starts in this snapshot: {@code seq} is the last archived event (0 if
         * nothing was archived) and {@code hash} its hash, the prevHash of the first live event.
         */
        public ChainHead chainStart() {
            return start;
        }

        /** The archive file of the newest anchor, or null. */
        public String anchorFile() {
            return anchorFile;
        }

        /** The last event the export will contain ({@link ChainHead#EMPTY} if none). */
        public ChainHead last() {
            return last;
        }

        /** Writes every event of the snapshot in {@code [from, to)} and closes the snapshot. */
        public void write(OutputStream out, boolean csv) throws IOException {
            try (PreparedStatement ps = connection.prepareStatement(EventRows.select(store)
                    + " where seq <= ?" + window(from, to) + " order by seq")) {
                ps.setLong(1, last.seq());
                bindWindow(ps, 2, from, to);
                // Lines are built in one buffer and sent in large chunks, cut at line ends (so a
                // surrogate pair is never split): per-line writes through an encoder cost more than
                // building the lines.
                StringBuilder chunk = new StringBuilder(CHUNK_CHARS + 4096);
                EventRows rows = new EventRows();
                String[] fields = new String[EventRows.TEXT_COLUMNS];
                if (csv) {
                    chunk.append(ExportFormat.CSV_HEADER).append("\r\n");
                }
                try (ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
                    for (byte[] row = ahead.next(); row != null; row = ahead.next()) {
                        AuditEvent e = rows.event(row, fields);
                        if (csv) {
                            ExportFormat.csv(chunk, e, rows.escaped());
                            chunk.append("\r\n");
                        } else {
                            ExportFormat.jsonl(chunk, e, rows.escaped());
                            chunk.append('\n');
                        }
                        if (chunk.length() >= CHUNK_CHARS) {
                            send(out, chunk);
                        }
                    }
                }
                send(out, chunk);
                out.flush();
            } catch (SQLException e) {
                throw new IOException("audit export failed", e);
            } finally {
                close();
            }
        }

        /** Ends the snapshot and gives the connection back to its owner (who closes it). */
        @Override
        public void close() {
            release.run();
        }
    }

    /**
     * Opens a snapshot on {@code c} (an {@link AuditExports} slot's own connection, not a pooled one)
     * for an export of {@code [from, to)} (times as stored, RFC 3339 with millis; null for an open
     * end). The caller records the export event and then streams or closes it; closing runs
     * {@code release}, which owns the connection.
     */
    public Export openExport(Connection c, Runnable release, String from, String to) {
        try {
            c.setAutoCommit(false);
            ChainHead last = ChainHead.EMPTY;
            // Without a window this is the primary key's last row; with "time >= ''" it used to be a
            // scan of the whole time index (0.4 s at a million events).
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, hash from audit_event where 1 = 1" + window(from, to) + " order by seq desc limit 1")) {
                bindWindow(ps, 1, from, to);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        last = new ChainHead(rs.getLong(1), rs.getString(2));
                    }
                }
            }
            ChainHead start = ChainHead.EMPTY;
            String anchorFile = null;
            java.util.Optional<ArchiveAnchor> anchor = AuditArchiver.latestAnchor(c);
            if (anchor.isPresent()) {
                start = new ChainHead(anchor.get().seq(), anchor.get().hash());
                anchorFile = anchor.get().file();
            }
            return new Export(c, release, from, to, last, start, anchorFile);
        } catch (SQLException e) {
            release.run();
            throw new IllegalStateException("cannot start an audit export", e);
        } catch (RuntimeException e) {
            release.run(); // any failure before the hand-over frees the slot, or two of them would refuse every export
            throw e;
        }
    }

    /** The SQL conditions of a window; an open end adds none, so the primary key alone drives the query. */
    private static String window(String from, String to) {
        return (from == null ? "" : " and time >= ?") + (to == null ? "" : " and time < ?");
    }

    private static void bindWindow(PreparedStatement ps, int index, String from, String to) throws SQLException {
        if (from != null) {
            ps.setString(index++, from);
        }
        if (to != null) {
            ps.setString(index, to);
        }
    }

    /** Sends the buffered lines as UTF-8 (a lone surrogate becomes '?', as a Writer would make it). */
    private static void send(OutputStream out, StringBuilder chunk) throws IOException {
        if (chunk.isEmpty()) {
            return;
        }
        out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
        chunk.setLength(0);
    }
}
