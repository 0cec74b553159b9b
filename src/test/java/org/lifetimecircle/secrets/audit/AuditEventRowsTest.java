package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.db.Stores;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestPostgres;
import org.sqlite.SQLiteDataSource;

/** Rows packed by SQLite's json_array, read ahead and unpacked are exactly what getString reads. */
class AuditEventRowsTest {

    @TempDir
    Path dir;

    @Test
    void packedRowsReadBackAsTheDriverReadsEachColumn() throws Exception {
        StringBuilder everyChar = new StringBuilder();
        for (char c = 0; c < 0xffff; c++) {
            if (!Character.isSurrogate(c)) {
                everyChar.append(c);
            }
        }
        everyChar.append("😀 end");
        List<AuditEvent> events = new ArrayList<>(GoldenChain.events());
        AuditEvent t = events.get(0);
        events.add(new AuditEvent(events.size() + 1, t.time(), everyChar.toString(), "x", null, "\u0000nul\u0000",
                Outcome.FAILED, "", everyChar.toString(), "{\"k\":\"" + everyChar + "\"}", t.prevHash(), t.hash()));
        addOneOfEachEscape(events, (char) 0);

        SQLiteDataSource db = new SQLiteDataSource(); // not DriverManager: Quarkus tests load the driver elsewhere
        db.setUrl("jdbc:sqlite:" + dir.resolve("rows.db"));
        try (Connection c = db.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate(schema());
            }
            insert(c, events);
            List<AuditEvent> byColumn = byColumn(c);
            List<AuditEvent> packed = packed(c, "sqlite");
            assertThat(byColumn).hasSize(events.size());
            assertThat(packed).isEqualTo(byColumn);
            assertThat(packed.subList(0, GoldenChain.events().size()))
                    .isEqualTo(events.subList(0, GoldenChain.events().size()));
            theEscapeHintsHold(c, "sqlite");
        }
    }

    /** PostgreSQL's json_build_array (a space after each comma, its own escaping) unpacks to the same strings. */
    @Test
    void packedRowsReadBackOnPostgresql() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TestPostgres.selected(), "the PostgreSQL store's run");
        StringBuilder everyChar = new StringBuilder();
        for (char c = 1; c < 0xffff; c++) { // PostgreSQL text holds no NUL; the service never writes one
            if (!Character.isSurrogate(c)) {
                everyChar.append(c);
            }
        }
        everyChar.append("😀 end");
        List<AuditEvent> events = new ArrayList<>(GoldenChain.events());
        AuditEvent t = events.get(0);
        events.add(new AuditEvent(events.size() + 1, t.time(), everyChar.toString(), "x", null, "tab\tquote\"",
                Outcome.FAILED, "", everyChar.toString(), "{\"k\":\"" + everyChar + "\"}", t.prevHash(), t.hash()));
        addOneOfEachEscape(events, (char) 1);
        String url = TestPostgres.cluster().createDatabase();
        try (Connection c = TestPostgres.connect(url)) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("create table audit_event (seq bigint primary key, time text, actor text, action text,"
                        + " environment text, target text, outcome text, request_id text, source_ip text, details text,"
                        + " prev_hash text, hash text)");
            }
            insert(c, events);
            List<AuditEvent> packed = packed(c, "postgresql");
            assertThat(packed).isEqualTo(byColumn(c)).isEqualTo(events);
            theEscapeHintsHold(c, "postgresql");
        }
    }

    /** An event per character JSON escapes (and two it need not), in each free-text field but details. */
    private static void addOneOfEachEscape(List<AuditEvent> events, char first) {
        StringBuilder chars = new StringBuilder();
        for (char c = first; c < 0x20; c++) {
            chars.append(c);
        }
        chars.append("\"\\\u007f\u2028");
        for (int i = 0; i < chars.length(); i++) {
            String v = "a" + chars.charAt(i) + "b,c";
            // The hash columns hold 64 characters, as SQLite counts them: up to a NUL.
            String h = chars.charAt(i) == 0 ? "0".repeat(64) : (v + "0".repeat(64)).substring(0, 64);
            events.add(new AuditEvent(events.size() + 1, v, v, v, v, v, Outcome.SUCCESS, v, v, "{}", h, h));
        }
    }

    /**
     * What {@link EventRows#escaped()} promises: a field without its bit holds no character to escape; and what
     * it is for: every export line and hash written with the hint is the one written without it. Both ways: the
     * plain fields of ordinary events do go unscanned, and every field with such a character is scanned.
     */
    private static void theEscapeHintsHold(Connection c, String store) throws SQLException {
        EventRows rows = new EventRows();
        String[] f = new String[EventRows.TEXT_COLUMNS];
        ChainHash.Hasher hasher = new ChainHash.Hasher();
        int unscanned = 0;
        int scanned = 0;
        try (PreparedStatement ps = c.prepareStatement(EventRows.select(Stores.of(store)) + " order by seq");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                AuditEvent e = rows.event(rs.getBytes(1), f);
                int escaped = rows.escaped();
                for (int k = 0; k < EventRows.TEXT_COLUMNS; k++) {
                    if (f[k] == null) {
                        continue;
                    }
                    boolean needs = CanonicalJson.needsEscape(f[k]);
                    if (EventRows.mayNeedEscape(escaped, k)) {
                        scanned++;
                    } else {
                        assertThat(needs).as("seq %d field %d: %s", e.seq(), k, f[k]).isFalse();
                        unscanned++;
                    }
                }
                StringBuilder hinted = new StringBuilder();
                StringBuilder plain = new StringBuilder();
                ExportFormat.jsonl(hinted, e, escaped);
                ExportFormat.jsonl(plain, e);
                ExportFormat.csv(hinted, e, escaped);
                ExportFormat.csv(plain, e);
                assertThat(hinted.toString()).isEqualTo(plain.toString());
                assertThat(hashOrRefusal(() -> hasher.hash(e.seq(), f, escaped))).isEqualTo(hashOrRefusal(
                        () -> hasher.hash(e.seq(), e.time(), e.actor(), e.action(), e.environment(), e.target(),
                                e.outcome().name(), e.requestId(), e.sourceIp(), e.details(), e.prevHash())));
            }
        }
        assertThat(unscanned).as("fields the hint spares a scan").isGreaterThan(100);
        assertThat(scanned).as("fields with a character to escape, all scanned").isGreaterThan(250);
    }

    @Test
    void readingAheadEndsCleanlyOnCloseOnFailureAndAtTheEnd() throws Exception {
        SQLiteDataSource db = new SQLiteDataSource();
        db.setUrl("jdbc:sqlite:" + dir.resolve("many.db"));
        try (Connection c = db.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("create table t (v text)");
                s.executeUpdate("with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000) "
                        + "insert into t select 'row ' || i from n");
            }
            try (PreparedStatement ps = c.prepareStatement("select v from t"); ResultSet rs = ps.executeQuery()) {
                ReadAhead ahead = new ReadAhead(rs);
                assertThat(new String(ahead.next(), StandardCharsets.UTF_8)).isEqualTo("row 1");
                Poll.atMost(Duration.ofSeconds(10)).alias("the reader fills the queue and waits")
                        .until(() -> Thread.getAllStackTraces().keySet().stream().anyMatch(
                                t -> t.getName().equals("audit-read-ahead") && t.getState() == Thread.State.WAITING));
                ahead.close();
                assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("audit-read-ahead"));
                assertThat(rs.next()).as("the result set is the caller's again").isTrue();
            }
            // A failure while stepping (malformed JSON from row 5000 on) reaches the caller after the rows before it.
            try (PreparedStatement ps = c.prepareStatement(
                    "select case when rowid < 5000 then v else json_extract(v, '$') end from t");
                 ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
                for (int i = 1; i < 5000; i++) {
                    assertThat(ahead.next()).isNotNull();
                }
                assertThatThrownBy(ahead::next).isInstanceOf(SQLException.class).hasMessageContaining("JSON");
            }
            try (PreparedStatement ps = c.prepareStatement("select v from t where rowid <= 3");
                 ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
                int n = 0;
                while (ahead.next() != null) {
                    n++;
                }
                assertThat(n).isEqualTo(3);
                assertThat(ahead.next()).as("still the end").isNull();
            }
        }
    }

    /** The hash, or why there is none (details that are not JSON are refused, with or without the hint). */
    private static String hashOrRefusal(java.util.function.Supplier<String> hash) {
        try {
            return hash.get();
        } catch (IllegalStateException refused) {
            return "refused: " + refused.getMessage();
        }
    }

    private static void insert(Connection c, List<AuditEvent> events) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into audit_event values (?,?,?,?,?,?,?,?,?,?,?,?)")) {
            for (AuditEvent e : events) {
                ps.setLong(1, e.seq());
                ps.setString(2, e.time());
                ps.setString(3, e.actor());
                ps.setString(4, e.action());
                ps.setString(5, e.environment());
                ps.setString(6, e.target());
                ps.setString(7, e.outcome().name());
                ps.setString(8, e.requestId());
                ps.setString(9, e.sourceIp());
                ps.setString(10, e.details());
                ps.setString(11, e.prevHash());
                ps.setString(12, e.hash());
                ps.executeUpdate();
            }
        }
    }

    /** Every row as the store packs it (EventRows.select), read ahead and unpacked. */
    private static List<AuditEvent> packed(Connection c, String store) throws SQLException {
        EventRows rows = new EventRows();
        String[] fields = new String[EventRows.TEXT_COLUMNS];
        List<AuditEvent> packed = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(EventRows.select(Stores.of(store)) + " order by seq");
             ResultSet rs = ps.executeQuery(); ReadAhead ahead = new ReadAhead(rs)) {
            for (byte[] row = ahead.next(); row != null; row = ahead.next()) {
                packed.add(rows.event(row, fields));
            }
        }
        return packed;
    }

    private static List<AuditEvent> byColumn(Connection c) throws SQLException {
        List<AuditEvent> events = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select seq, time, actor, action, environment, target, outcome, "
                + "request_id, source_ip, details, prev_hash, hash from audit_event order by seq");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                events.add(new AuditEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), Outcome.valueOf(rs.getString(7)), rs.getString(8),
                        rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12)));
            }
        }
        return events;
    }

    /** The table as the migration creates it (without its triggers and indexes). */
    private static String schema() throws Exception {
        String migration = Files.readString(Path.of("src/main/resources/db/migration/sqlite/V2__audit.sql"));
        return migration.substring(migration.indexOf("CREATE TABLE audit_event"), migration.indexOf(");") + 2);
    }
}
