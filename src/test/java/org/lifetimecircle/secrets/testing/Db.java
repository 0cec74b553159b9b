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
