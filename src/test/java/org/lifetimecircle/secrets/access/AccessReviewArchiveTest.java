package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.access.GrantEndpointsTest.Who;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * After an audit archive, the access review counts uses from the events still in the database: a
 * window reaching back into archived time says so ({@code partlyArchived}) instead of silently
 * reporting 0 uses.
 */
@QuarkusTest
@TestProfile(AccessReviewArchiveTest.Isolated.class)
@WithTestResource(TestDataDir.class)
class AccessReviewArchiveTest {

    /** Its own application and database: the archive removes events that the other tests' shared trail must keep. */
    public static class Isolated implements QuarkusTestProfile {
    }

    @Test
    void aWindowReachingIntoArchivedEventsIsMarkedPartlyArchived() throws Exception {
        Instant start = TestClock.now();
        Who deployer = GrantEndpointsTest.principal("deployer");
        String grant = as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", deployer.name(),
                        "environment", "prod", "permission", "env-file:read", "ttl", "PT1H", "reason", "review test"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
        as(deployer.token()).get("/api/v1/environments/prod/env-file").then().statusCode(200);

        JsonPath live = review(start);
        assertThat(live.getBoolean("partlyArchived")).isFalse();
        assertThat(live.getLong("entries.find { it.grantId == '" + grant + "' }.usesInWindow")).isEqualTo(1);

        Instant before = after(Db.queryLong("select max(seq) from audit_event"));
        JsonPath archived = as(adminToken()).contentType(ContentType.JSON)
                .body(Map.of("before", before.toString(), "reason", "review test")).post("/api/v1/audit/archive")
                .then().statusCode(200).extract().jsonPath();

        JsonPath partly = review(start);
        assertThat(partly.getBoolean("partlyArchived")).as(partly.prettify()).isTrue();
        assertThat(partly.getLong("archivedThroughSeq")).isEqualTo(archived.getLong("archivedThroughSeq"));
        assertThat(Instant.parse(partly.getString("archivedBefore"))).isEqualTo(before);
        // The use is in the archive file now: not counted, and the answer says why.
        assertThat(partly.getLong("entries.find { it.grantId == '" + grant + "' }.usesInWindow")).isZero();

        JsonPath after = review(before);
        assertThat(after.getBoolean("partlyArchived")).isFalse();
        assertThat(after.getLong("archivedThroughSeq")).isEqualTo(archived.getLong("archivedThroughSeq"));
    }

    private static JsonPath review(Instant from) {
        TestClock.advance(Duration.ofMillis(5)); // 'to' (now) after 'from'
        return as(adminToken()).queryParam("environment", "prod").queryParam("from", from.toString())
                .get("/api/v1/access-review").then().statusCode(200).extract().jsonPath();
    }

    /** A 'before' that includes the event at {@code seq} and everything before it, and is not in the future. */
    private static Instant after(long seq) throws Exception {
        Instant t;
        try (var c = Db.open(); var st = c.createStatement();
             var rs = st.executeQuery("select time from audit_event where seq = " + seq)) {
            rs.next();
            t = Instant.parse(rs.getString(1)).plusMillis(1);
        }
        Instant now = TestClock.now();
        if (!now.isAfter(t)) {
            TestClock.advance(Duration.between(now, t).plusMillis(1));
        }
        return t;
    }
}
