package org.lifetimecircle.secrets.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Issue 17: the README's first rotation on a laptop. The shipped policies restart systemd units a laptop
 * does not have, so it ended ROLLED_BACK; with the dev override the rotation restarts the real demo app
 * (demo-app/restart.sh), which reads the new env file at start, and checks its real /health.
 */
@QuarkusTest
@WithTestResource(DemoAppResource.class)
class DemoAppRotationTest {

    private static final String SECRET = "LTC_SECRET_KEY";

    @Test
    void aManualThenAnEmergencyRotationOfProdCompleteWithARealRestartAndHealthCheck() throws Exception {
        String name = Api.uniqueName("laptop-engineer");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "security-engineer"))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        // The shipped prod policy asks a second person to approve every grant on prod (approvals.grants).
        String approval = as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name,
                        "environment", "prod", "permission", "secret:rotate", "ttl", "PT1H",
                        "reason", "first rotation on a laptop"))
                .post("/api/v1/grants").then().statusCode(202).extract().path("approval.id");
        String second = Api.uniqueName("laptop-approver");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", second, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        String secondToken = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + second + "/tokens").then().statusCode(201).extract().path("token");
        as(secondToken).contentType(ContentType.JSON).body(Map.of("reason", "second pair of eyes"))
                .post("/api/v1/approvals/" + approval + "/approve").then().statusCode(200);

        JsonPath manual = Rotations.rotateAndWait(token, "prod", SECRET);
        assertThat(manual.getString("status")).as(manual.prettify()).isEqualTo("COMPLETED");
        assertThat(step(manual, "restart", "status")).isEqualTo("DONE");
        assertThat(step(manual, "restart", "detail")).contains("exit 0").contains("demo-app prod restarted");
        assertThat(step(manual, "health-check", "status")).isEqualTo("DONE");
        String afterManual = keyInEnvFile();
        // The app that answers is the one restarted with the new file: it reports the new key's fingerprint.
        assertThat(demoAppFingerprint()).isEqualTo(fingerprint(afterManual));
        long firstPid = demoAppPid();

        String id = as(token).contentType(ContentType.JSON).body(Map.of("reason", "laptop drill", "incident", "INC-DEMO-1"))
                .post("/api/v1/environments/prod/emergency-rotations").then().statusCode(202).extract().path("id");
        JsonPath emergency = Rotations.awaitFinished(token, id);
        assertThat(emergency.getString("status")).as(emergency.prettify()).isEqualTo("COMPLETED");
        assertThat(step(emergency, "restart", "status")).isEqualTo("DONE");
        assertThat(step(emergency, "health-check", "status")).isEqualTo("DONE");
        String afterEmergency = keyInEnvFile();
        assertThat(afterEmergency).isNotEqualTo(afterManual);
        assertThat(demoAppFingerprint()).isEqualTo(fingerprint(afterEmergency));
        assertThat(demoAppPid()).isNotEqualTo(firstPid);
        assertThat(DemoAppTest.running(firstPid)).isFalse();
        // Emergencies never wait for approval; on prod a second person reviews them afterwards.
        assertThat(as(token).get("/api/v1/incidents?environment=prod").then().statusCode(200).extract().jsonPath()
                .getBoolean("find { it.incident == 'INC-DEMO-1' }.reviewRequired")).isTrue();
    }

    private static String step(JsonPath r, String name, String field) {
        List<Map<String, Object>> steps = r.getList("steps");
        return steps.stream().filter(s -> name.equals(s.get("name"))).map(s -> String.valueOf(s.get(field)))
                .reduce((a, b) -> b).orElse(null);
    }

    private static String keyInEnvFile() throws Exception {
        Path file = TestDataDir.fileRoot().resolve("etc/lifetimecircle/prod.env");
        return Files.readAllLines(file).stream().filter(l -> l.startsWith(SECRET + "=")).findFirst().orElseThrow()
                .substring(SECRET.length() + 1);
    }

    private static long demoAppPid() throws Exception {
        return Long.parseLong(Files.readString(DemoAppResource.stateDir.resolve("prod.pid")).trim());
    }

    private static String demoAppFingerprint() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + DemoAppResource.PORTS.get("prod") + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JsonPath.from(r.body()).getString("keyFingerprint");
    }

    static String fingerprint(String key) throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hash).substring(0, 12);
    }
}
