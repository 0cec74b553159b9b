package org.lifetimecircle.secrets.access;

import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** The names the service itself acts under cannot be given to a principal: the trail would lie. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ReservedPrincipalNamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"system", "scheduler", "anonymous", "bootstrap-admin"})
    void reservedNamesAreAConflictAndCreateNothing(String name) {
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(409)
                .contentType("application/problem+json").body("code", equalTo("conflict"));
        if (!name.equals(BootstrapAdmin.NAME)) {
            as(adminToken()).get("/api/v1/principals/" + name).then().statusCode(404);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"System", "SCHEDULER", "Anonymous", "Bootstrap-Admin"})
    void caseVariantsAreNotValidNamesAtAll(String name) {
        // Names are lower case only, so a look-alike in another case cannot exist either.
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(400).body("code", equalTo("invalid-request"));
    }
}
