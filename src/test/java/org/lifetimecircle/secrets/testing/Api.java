package org.lifetimecircle.secrets.testing;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Test helpers for calling the running application as a given principal. */
public final class Api {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Api() {
    }

    /** The bootstrap admin's token, read from the file the service wrote. */
    public static String adminToken() {
        try {
            return Files.readString(TestDataDir.dataDir().resolve("bootstrap-admin.token")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A request with a bearer token. */
    public static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
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
}
