package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class PrincipalEndpointsTest {

    @Test
    void adminCreatesAPrincipalAndIssuesATokenShownOnce() {
        String name = Api.uniqueName("deploy-bot");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "deployer"))
                .post("/api/v1/principals").then()
                .statusCode(201)
                .header("Location", endsWith("/api/v1/principals/" + name))
                .body("name", equalTo(name))
                .body("role", equalTo("deployer"))
                .body("createdBy", equalTo(BootstrapAdmin.NAME))
                .body("enabled", equalTo(true))
                .body("disabledAt", nullValue());

        var issued = as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "PT8H"))
                .post("/api/v1/principals/" + name + "/tokens").then()
                .statusCode(201)
                .header("Cache-Control", equalTo("no-store"))
                .body("id", notNullValue())
                .extract();
        String token = issued.path("token");
        assertThat(token).matches("ltcs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");
        Instant expires = Instant.parse(issued.path("expiresAt"));
        assertThat(expires).isBetween(TestClock.now().plusSeconds(8 * 3600 - 60), TestClock.now().plusSeconds(8 * 3600 + 60));

        String listed = as(adminToken()).get("/api/v1/principals/" + name + "/tokens").then()
                .statusCode(200)
                .body("id", hasItem(issued.path("id").toString()))
                .extract().asString();
        assertThat(listed).doesNotContain(token).doesNotContain(token.substring(22));
        as(adminToken()).get("/api/v1/principals").then().statusCode(200).body("name", hasItem(name));
        as(adminToken()).get("/api/v1/principals/" + name).then().statusCode(200).body("role", equalTo("deployer"));
    }

    @Test
    void tokenDefaultsToTheConfiguredLifetime() {
        String name = Api.uniqueName("default-ttl");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        String expiresAt = as(adminToken()).post("/api/v1/principals/" + name + "/tokens").then()
                .statusCode(201).extract().path("expiresAt");
        assertThat(Instant.parse(expiresAt)).isAfter(TestClock.now().plusSeconds(89L * 86400));
    }

    @Test
    void tokensAreStoredOnlyAsHashes() throws IOException {
        String token = Api.tokenFor("auditor");
        String secretPart = token.substring(22);
        for (String file : new String[] {"ltc-secrets.db", "ltc-secrets.db-wal"}) {
            Path p = TestDataDir.dataDir().resolve(file);
            if (Files.exists(p)) {
                String bytes = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
                assertThat(bytes).as(file).doesNotContain(secretPart);
            }
        }
    }

    @Test
    void principalNamesAreNotReused() {
        String name = Api.uniqueName("dup");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(409)
                .contentType("application/problem+json").body("code", equalTo("conflict"));
        as(adminToken()).get("/api/v1/principals/" + name).then().body("role", equalTo("auditor"));
    }

    @Test
    void unknownPrincipalOrTokenIsNotFound() {
        as(adminToken()).get("/api/v1/principals/nobody-here").then().statusCode(404).body("code", equalTo("not-found"));
        as(adminToken()).post("/api/v1/principals/nobody-here/tokens").then().statusCode(404);
        as(adminToken()).delete("/api/v1/tokens/0000000000000000").then().statusCode(404);
    }

    @ParameterizedTest
    @ValueSource(strings = {"security-engineer", "deployer", "auditor"})
    void onlyAdminsManagePrincipals(String role) {
        String token = Api.tokenFor(role);
        String victim = Api.uniqueName("victim");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", victim, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        String victimTokenId = as(adminToken()).post("/api/v1/principals/" + victim + "/tokens").then()
                .statusCode(201).extract().path("id");

        as(token).contentType(ContentType.JSON).body(Map.of("name", Api.uniqueName("x"), "role", "admin"))
                .post("/api/v1/principals").then().statusCode(403).body("code", equalTo("forbidden"));
        as(token).get("/api/v1/principals").then().statusCode(403);
        as(token).get("/api/v1/principals/" + victim).then().statusCode(403);
        as(token).get("/api/v1/principals/" + victim + "/tokens").then().statusCode(403);
        as(token).post("/api/v1/principals/" + victim + "/tokens").then().statusCode(403);
        as(token).delete("/api/v1/tokens/" + victimTokenId).then().statusCode(403);
        as(token).queryParam("reason", "not mine to do").delete("/api/v1/principals/" + victim).then().statusCode(403)
                .body("code", equalTo("forbidden"));
        // The refused revocation and disable changed nothing.
        as(adminToken()).get("/api/v1/principals/" + victim + "/tokens").then().body("[0].revokedAt", nullValue());
        as(adminToken()).get("/api/v1/principals/" + victim).then().body("enabled", equalTo(true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"admin", "security-engineer", "deployer", "auditor"})
    void everyRoleReadsEnvironments(String role) {
        as(Api.tokenFor(role)).get("/api/v1/environments").then().statusCode(200);
    }
}
