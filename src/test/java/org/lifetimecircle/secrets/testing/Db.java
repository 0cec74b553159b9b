package org.lifetimecircle.secrets.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A second, direct connection to the running test application's database (its SQLite file or PostgreSQL database): how tests play the
 * attacker with file access, or inject a real fault with a trigger. Never used to set up state the
 * API could set up.
 */
public final class Db {

    private Db() {
    }

    public static Connection open() throws SQLException {
        if (TestDataDir.storeUrl() != null) {
            return TestPostgres.connect(TestDataDir.storeUrl());
        }
        return DriverManager.getConnection("jdbc:sqlite:" + TestDataDir.dataDir().resolve("ltc-secrets.db")
                + "?busy_timeout=10000");
    }

    /** Whether the running test application's store is PostgreSQL (a test's SQL may need its spelling). */
    public static boolean postgresql() {
        return TestDataDir.storeUrl() != null;
    }

    /** Runs statements in one autocommit connection. */
    public static void exec(String... sql) throws SQLException {
        try (Connection c = open(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /**
     * Turns the audit trail's append-only triggers off (a test playing an attacker who owns the database, to tamper
     * with events and anchors) or back on, exactly as the migrations define them, in the store's own syntax.
     */
    public static void appendOnly(boolean on) throws SQLException {
        if (postgresql()) {
            String verb = on ? "ENABLE" : "DISABLE";
            exec("ALTER TABLE audit_event " + verb + " TRIGGER USER", "ALTER TABLE audit_anchor " + verb + " TRIGGER USER");
            return;
        }
        if (!on) {
            exec("DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete",
                    "DROP TRIGGER IF EXISTS audit_anchor_no_update", "DROP TRIGGER IF EXISTS audit_anchor_no_delete");
            return;
        }
        exec("CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event BEGIN "
                        + "SELECT RAISE(ABORT, 'audit events are append-only'); END",
                "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
                        + "WHEN OLD.seq > (SELECT coalesce(max(seq), 0) FROM audit_anchor) BEGIN "
                        + "SELECT RAISE(ABORT, 'audit events are append-only (only events covered by an archive anchor "
                        + "may be deleted)'); END",
                "CREATE TRIGGER IF NOT EXISTS audit_anchor_no_update BEFORE UPDATE ON audit_anchor BEGIN "
                        + "SELECT RAISE(ABORT, 'audit anchors are append-only'); END",
                "CREATE TRIGGER IF NOT EXISTS audit_anchor_no_delete BEFORE DELETE ON audit_anchor BEGIN "
                        + "SELECT RAISE(ABORT, 'audit anchors are append-only'); END");
    }

    /**
     * A real fault: the database refuses every insert into {@code table} whose new row matches {@code condition}
     * (SQL over {@code NEW.<column>}, or null for every row), with {@code message}, until {@link #dropRefusal}.
     */
    public static void refuseInserts(String name, String table, String condition, String message) throws SQLException {
        exec(refusal(postgresql(), name, table, condition, message));
    }

    /** Removes a refusal made by {@link #refuseInserts} (nothing if there is none). */
    public static void dropRefusal(String name, String table) throws SQLException {
        exec(dropRefusal(postgresql(), name, table));
    }

    /** The statements of {@link #refuseInserts} for either store (black-box tests run them on their own connection). */
    public static String[] refusal(boolean postgresql, String name, String table, String condition, String message) {
        if (postgresql) {
            return new String[] {"CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
                    + (condition == null ? "true" : condition) + " THEN RAISE EXCEPTION '" + message
                    + "'; END IF; RETURN NEW; END $$",
                    "CREATE TRIGGER " + name + " BEFORE INSERT ON " + table + " FOR EACH ROW EXECUTE FUNCTION " + name
                            + "()"};
        }
        return new String[] {"CREATE TRIGGER " + name + " BEFORE INSERT ON " + table
                + (condition == null ? "" : " WHEN " + condition) + " BEGIN SELECT RAISE(ABORT, '" + message + "'); END"};
    }

    /** The statements of {@link #dropRefusal} for either store. */
    public static String[] dropRefusal(boolean postgresql, String name, String table) {
        if (postgresql) {
            return new String[] {"DROP TRIGGER IF EXISTS " + name + " ON " + table, "DROP FUNCTION IF EXISTS " + name
                    + "()"};
        }
        return new String[] {"DROP TRIGGER IF EXISTS " + name};
    }

    /** The first column of the first row of a query, as a long. */
    public static long queryLong(String sql) throws SQLException {
        try (Connection c = open(); Statement st = c.createStatement(); var rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    /** The audit events a request left (normally exactly one), as column name to value. */
    public static List<Map<String, Object>> eventsOf(String requestId) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = open();
             PreparedStatement ps = c.prepareStatement("select seq, actor, action, environment, target, outcome, "
                     + "details from audit_event where request_id = ? order by seq")) {
            ps.setString(1, requestId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        e.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                    }
                    out.add(e);
                }
            }
        }
        return out;
    }
}
