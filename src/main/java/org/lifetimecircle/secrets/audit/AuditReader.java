package org.lifetimecircle.secrets.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
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

    static final String COLUMNS = "seq, time, actor, action, environment, target, outcome, request_id, source_ip, "
            + "details, prev_hash, hash";
    static final String CSV_HEADER = "seq,time,actor,action,environment,target,outcome,requestId,sourceIp,details,prevHash,hash";

    private final AgroalDataSource dataSource;
    private final ObjectMapper mapper;

    AuditReader(AgroalDataSource dataSource, ObjectMapper mapper) {
        this.dataSource = dataSource;
        this.mapper = mapper;
    }

    /** Events with seq greater than {@code after}, in seq order, optionally filtered. */
    public List<AuditEvent> page(long after, int limit, String action, String environment) {
        StringBuilder sql = new StringBuilder("select " + COLUMNS + " from audit_event where seq > ?");
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
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.add(event(rs));
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
        private final String from;
        private final String to;
        private final ChainHead last;

        private Export(Connection connection, String from, String to, ChainHead last) {
            this.connection = connection;
            this.from = from;
            this.to = to;
            this.last = last;
        }

        /** The last event the export will contain ({@link ChainHead#EMPTY} if none). */
        public ChainHead last() {
            return last;
        }

        /** Writes every event of the snapshot in {@code [from, to)} and closes the snapshot. */
        public void write(OutputStream out, boolean csv) throws IOException {
            try (PreparedStatement ps = connection.prepareStatement("select " + COLUMNS + " from audit_event "
                    + "where time >= ? and time < ? and seq <= ? order by seq")) {
                ps.setString(1, from);
                ps.setString(2, to);
                ps.setLong(3, last.seq());
                ps.setFetchSize(1000);
                Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
                if (csv) {
                    w.write(CSV_HEADER);
                    w.write("\r\n");
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        AuditEvent e = event(rs);
                        if (csv) {
                            writeCsv(w, e);
                        } else {
                            w.write(mapper.writeValueAsString(e));
                            w.write('\n');
                        }
                    }
                }
                w.flush();
            } catch (SQLException e) {
                throw new IOException("audit export failed", e);
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            try {
                connection.rollback();
                connection.setAutoCommit(true);
                connection.close();
            } catch (SQLException e) {
                // The connection is discarded either way; the export already ended.
            }
        }
    }

    /**
     * Opens a snapshot for an export of {@code [from, to)} (times as stored, RFC 3339 with millis).
     * The caller records the export event and then streams or closes it.
     */
    public Export openExport(String from, String to) {
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            ChainHead last = ChainHead.EMPTY;
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, hash from audit_event where time >= ? and time < ? order by seq desc limit 1")) {
                ps.setString(1, from);
                ps.setString(2, to);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        last = new ChainHead(rs.getLong(1), rs.getString(2));
                    }
                }
            }
            return new Export(c, from, to, last);
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // already failing
                }
            }
            throw new IllegalStateException("cannot start an audit export", e);
        }
    }

    static AuditEvent event(ResultSet rs) throws SQLException {
        return new AuditEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), Outcome.valueOf(rs.getString(7)), rs.getString(8), rs.getString(9), rs.getString(10),
                rs.getString(11), rs.getString(12));
    }

    private static void writeCsv(Writer w, AuditEvent e) throws IOException {
        w.write(Long.toString(e.seq()));
        for (String field : new String[] {e.time(), e.actor(), e.action(), e.environment(), e.target(),
                e.outcome().name(), e.requestId(), e.sourceIp(), e.details(), e.prevHash(), e.hash()}) {
            w.write(',');
            w.write(csv(field));
        }
        w.write("\r\n");
    }

    /** RFC 4180 field; null is an empty field (events never hold empty strings). */
    static String csv(String value) {
        if (value == null) {
            return "";
        }
        boolean quote = value.indexOf(',') >= 0 || value.indexOf('"') >= 0 || value.indexOf('\n') >= 0
                || value.indexOf('\r') >= 0;
        return quote ? '"' + value.replace("\"", "\"\"") + '"' : value;
    }
}
