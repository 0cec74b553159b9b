package org.lifetimecircle.secrets.testing;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one way tests call the API as a given token: {@link #as(String)} for the {@code @QuarkusTest}
 * application, {@link #as(ServiceProcess, String)} for a packaged jar that a black-box test started.
 * Both are REST Assured requests, so both kinds of test read the same; waiting for a rotation is
 * {@link Rotations}.
 */
public final class Api {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    /**
     * A packaged jar may be killed in the middle of a test: a request to it gives up rather than hang
     * (connect 2 s, no answer for 10 s), as the JDK client the black-box tests used before did.
     */
    private static final RestAssuredConfig BLACK_BOX = RestAssuredConfig.config().httpClient(
            HttpClientConfig.httpClientConfig().setParam("http.connection.timeout", 2_000)
                    .setParam("http.socket.timeout", 10_000));

    private Api() {
    }

    /** The bootstrap admin's token, read from the file the {@code @QuarkusTest} application wrote. */
    public static String adminToken() {
        try {
            return adminToken(TestDataDir.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bootstrap admin's token, as the first start of a packaged jar wrote it into {@code dataDir}. */
    public static String adminToken(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve("bootstrap-admin.token")).trim();
    }

    /** A request to the {@code @QuarkusTest} application with a bearer token. */
    public static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    /** A request to the packaged jar {@code service} with a bearer token. */
    public static RequestSpecification as(ServiceProcess service, String token) {
        return as(token).config(BLACK_BOX).baseUri("http://127.0.0.1").port(service.port());
    }

    /** A unique principal name for this test run. */
    public static String uniqueName(String stem) {
        return stem + "-" + COUNTER.incrementAndGet() + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    /** Creates a principal with a role and returns a fresh token for it. */
    public static String tokenFor(String role) {
        String name = uniqueName(role);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        return as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201)
                .extract().path("token");
    }

    /** Grants {@code permission} on {@code env} to the packaged jar's bootstrap admin for an hour; asserts 201. */
    public static void grant(ServiceProcess service, String token, String env, String permission) {
        Response r = as(service, token).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin",
                "environment", env, "permission", permission, "ttl", "PT1H", "reason", "black-box test"))
                .post("/api/v1/grants");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(201);
    }
}
