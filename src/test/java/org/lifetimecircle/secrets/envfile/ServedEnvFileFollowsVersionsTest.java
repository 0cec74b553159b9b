package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The env-file fetch keeps the last file it served (sealed, {@code RenderedEnvFiles}) but reads the versions from
 * the database on every request: whatever changes the CURRENT or PREVIOUS rows, through this service or behind its
 * back (another instance of a shared store, an operator), is what the very next fetch serves.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ServedEnvFileFollowsVersionsTest {

    private static final String ENV = "staging";
    private static final String SECRET = "LTC_SECRET_KEY";
    private static final String FILE = "/api/v1/environments/" + ENV + "/env-file";
    private static String token;

    @BeforeEach
    void principal() {
        if (token != null) {
            return;
        }
        String name = Api.uniqueName("served");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        for (String permission : List.of("secret:rotate", "env-file:read")) {
            as(token).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                            "permission", permission, "ttl", "PT20H", "reason", "served env file test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
    }

    private static Response fetch() {
        return as(token).get(FILE);
    }

    @Test
    void twoFetchesWithoutAChangeServeTheSameBytesAndARotationIsServedFromTheNextFetch() throws Exception {
        Rotations.awaitIdle(token, ENV);
        Response first = fetch();
        Response second = fetch();
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(second.asByteArray()).isEqualTo(first.asByteArray());
        assertThat(second.header("ETag")).isEqualTo(first.header("ETag"));

        long to = Rotations.rotateAndWait(token, ENV, SECRET).getLong("toVersion");
        Response after = fetch();
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.header("ETag")).isNotEqualTo(first.header("ETag"));
        assertThat(after.header("X-Secret-Version")).contains(SECRET + ":" + to);
        // Byte for byte what the rotation wrote on disk.
        assertThat(after.asString()).isEqualTo(new String(Files.readAllBytes(
                TestDataDir.fileRoot().resolve("etc/lifetimecircle/staging.env")), StandardCharsets.UTF_8));
    }

    @Test
    void aChangeOfTheVersionsBehindTheServicesBackIsSeenByTheNextFetch() throws Exception {
        Rotations.awaitIdle(token, ENV);
        assertThat(fetch().statusCode()).isEqualTo(200); // kept now
        String current = "environment = '" + ENV + "' and secret = '" + SECRET + "' and state = ";
        // As another writer of the store would: the CURRENT version is no longer CURRENT.
        Db.exec("update secret_version set state = 'PENDING' where " + current + "'CURRENT'");
        try {
            assertThat(fetch().statusCode()).isEqualTo(409); // no CURRENT version: not the kept file
        } finally {
            Db.exec("update secret_version set state = 'CURRENT' where " + current + "'PENDING'");
        }
        assertThat(fetch().statusCode()).isEqualTo(200);

        // A ciphertext changed in place (same version number) is not the kept one either: it is opened afresh,
        // and one that does not open is refused, never answered with the file kept from the old ciphertext.
        byte[] original;
        try (var c = Db.open(); var ps = c.prepareStatement("select ciphertext from secret_version where "
                + current + "'CURRENT'"); var rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            original = rs.getBytes(1);
        }
        byte[] tampered = original.clone();
        tampered[tampered.length - 1] ^= 1;
        setCiphertext(current, tampered);
        try {
            assertThat(fetch().statusCode()).isEqualTo(500);
        } finally {
            setCiphertext(current, original);
        }
        assertThat(fetch().statusCode()).isEqualTo(200);
    }

    private static void setCiphertext(String where, byte[] value) throws Exception {
        try (var c = Db.open(); var ps = c.prepareStatement("update secret_version set ciphertext = ? where "
                + where + "'CURRENT'")) {
            ps.setBytes(1, value);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }
}
