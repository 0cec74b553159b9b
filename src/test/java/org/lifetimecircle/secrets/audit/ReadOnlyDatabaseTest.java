package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.AsRoot;
import org.lifetimecircle.secrets.testing.ImmutableDatabase;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** The database file turns unwritable under the running service ({@link ImmutableDatabase}), then writable again. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ReadOnlyDatabaseTest {

    @Inject
    AgroalDataSource dataSource;

    private static Response createPrincipal(String name) {
        return as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals");
    }

    @Test
    void connectionsOpenedWhileTheDatabaseWasReadOnlyDoNotOutliveTheFault() throws Exception {
        // chattr +i needs CAP_LINUX_IMMUTABLE: skipped for a developer's own user, run by CI (as root).
        AsRoot.assume("making the database file immutable (chattr +i)");
        // drills/faults.sh (read-only data directory): after the fault cleared, every write still got 503,
        // because the pool kept the connections SQLite had opened read-only during the fault.
        String refused = Api.uniqueName("refused");
        ImmutableDatabase.set(true);
        try {
            dataSource.flush(AgroalDataSource.FlushMode.ALL); // every connection from here on opens during the fault
            createPrincipal(refused).then().statusCode(503).contentType("application/problem+json")
                    .body("code", equalTo("unavailable"));
            createPrincipal(Api.uniqueName("refused")).then().statusCode(503);
        } finally {
            ImmutableDatabase.set(false);
        }
        // Fault cleared: at most one more clean refusal (a connection opened during the fault), then writes work.
        AtomicInteger refusals = new AtomicInteger();
        Poll.atMost(Duration.ofSeconds(30)).alias("writes accepted again after the fault cleared").until(() -> {
            Response r = createPrincipal(Api.uniqueName("after"));
            if (r.statusCode() == 201) {
                return true;
            }
            assertThat(r.statusCode()).isEqualTo(503);
            refusals.incrementAndGet();
            return false;
        });
        assertThat(refusals.get()).as("refusals after the fault cleared").isLessThanOrEqualTo(1);
        as(adminToken()).get("/api/v1/principals/" + refused).then().statusCode(404);
        as(adminToken()).get("/api/v1/audit/verify").then().statusCode(200).body("valid", equalTo(true));
    }
}
