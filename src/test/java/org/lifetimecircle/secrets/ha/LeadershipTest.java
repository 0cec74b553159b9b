package org.lifetimecircle.secrets.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.credentials.CredentialsProvider;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.db.Stores;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestPostgres;

/** The lock session of an instance that took over, on a real PostgreSQL server. */
class LeadershipTest {

    /** Only {@code ha().advertiseUrl()} is asked of the configuration here. */
    private static LtcSecretsConfig config() {
        LtcSecretsConfig.Ha ha = (LtcSecretsConfig.Ha) Proxy.newProxyInstance(LeadershipTest.class.getClassLoader(),
                new Class<?>[] {LtcSecretsConfig.Ha.class}, (p, m, a) -> Optional.of(java.net.URI.create("http://a")));
        return (LtcSecretsConfig) Proxy.newProxyInstance(LeadershipTest.class.getClassLoader(),
                new Class<?>[] {LtcSecretsConfig.class}, (p, m, a) -> {
                    if (m.getName().equals("ha")) {
                        return ha;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aStartWhoseActivePartOutlastsTheIdleTimeoutKeepsTheLockAndIsNotFenced() throws Exception {
        // CI found it: on a busy machine the start's writing part took longer than the lock session's
        // idle_session_timeout, the server ended the silent session, and the first ping after the start fenced
        // the only instance there was. The pings must run while the start's active part does.
        String url = TestPostgres.cluster().createDatabase();
        try (Connection c = TestPostgres.connect(url); Statement st = c.createStatement()) {
            st.execute(Files.readString(Path.of("src/main/resources/db/migration/postgresql/V14__ha_epoch.sql")));
        }
        List<String> fenced = new ArrayList<>();
        EpochFence fence = new EpochFence(true, fenced::add);
        Leadership leadership = new Leadership(config(), Stores.of("postgresql"),
                new CredentialsProvider() {
                    @Override
                    public Map<String, String> getCredentials(String name) {
                        return Map.of(USER_PROPERTY_NAME, TestPostgres.USER);
                    }
                }, url, fence, Clock.systemUTC());
        long idlePings = Leadership.IDLE_SESSION_TIMEOUT_MS / 1000 + 2; // pings come about every second
        try {
            leadership.lead(() -> Poll.atMost(Duration.ofSeconds(30))
                    .alias("the lock session pinged for longer than its idle timeout while the start runs")
                    .until(() -> leadership.pings() >= idlePings));
            assertThat(fenced).isEmpty();
            assertThat(leadership.serving()).isTrue();
            try (Connection c = TestPostgres.connect(url); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from pg_locks where locktype = 'advisory' "
                         + "and granted")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the lock is still held").isEqualTo(1);
            }
        } finally {
            leadership.onShutdown(null);
        }
    }
}
