package org.lifetimecircle.secrets.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * A PostgreSQL error reaches our log lines as its message (the audit writer's "commit failed (…)"): the
 * connections {@link StoreDriver} opens must not carry the server's detail, which quotes the offending row's
 * values. Checked both ways on a real server: the plain driver's message holds the value, ours does not, and
 * ours still gives the SQLSTATE the service acts on.
 */
class StoreDriverErrorDetailTest {

    private static final String VALUE = "key-value-that-must-not-be-logged-7f3a";

    @Test
    void aUniqueViolationOnOurConnectionsNamesNoValue() throws Exception {
        String url = TestPostgres.cluster().createDatabase();
        try (Connection c = new StoreDriver().connect(url, user())) {
            SQLException e = violateUnique(c);
            assertThat(e.getSQLState()).isEqualTo("23505");
            assertThat(e.getMessage()).contains("unique").doesNotContain(VALUE);
            assertThat(String.valueOf(e)).doesNotContain(VALUE);
        }
    }

    @Test
    void thePlainDriverWouldHaveQuotedIt() throws Exception {
        String url = TestPostgres.cluster().createDatabase();
        try (Connection c = new org.postgresql.Driver().connect(url, user())) {
            assertThat(violateUnique(c).getMessage()).as("the detail this test guards against").contains(VALUE);
        }
    }

    private static SQLException violateUnique(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("create table named (name text primary key)");
            st.execute("insert into named values ('" + VALUE + "')");
            return catchThrowableOfType(SQLException.class,
                    () -> st.execute("insert into named values ('" + VALUE + "')"));
        }
    }

    private static Properties user() {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.USER);
        return p;
    }
}
