package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Whether a request needs a token is decided by the resource it reaches, not by how its path is
 * spelled: matrix parameters, doubled or encoded slashes must not slip past the filter. The request
 * line goes out byte for byte over a socket, so no client normalises it first.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuthRoutingTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "/api/v1;x=1/environments",
        "/api/v1/environments;x=1",
        "/api;x=1/v1/environments",
        "//api/v1/environments",
        "/api//v1/environments",
        "/api/v1//environments",
        "/api%2Fv1/environments",
        "/api%2fv1%2fenvironments",
        "/api/v1/./environments",
        "/api/v1/x/../environments",
        "/API/v1/environments",
        "/api/v1/principals;x=1",
        "/api/v1;/principals/bootstrap-admin",
        "/api/v1/audit/events;limit=1",
    })
    void oddlySpelledPathsNeverServeDataWithoutAToken(String path) throws IOException {
        String response = rawGet(path);
        int status = Integer.parseInt(response.substring(9, 12));
        assertThat(status).as(path + " →\n" + response).isIn(400, 401, 404);
        assertThat(response).as(path).doesNotContain("bootstrap-admin\"").doesNotContain("\"name\":\"prod\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/health", "/q/health/ready", "/q/metrics", "/q/openapi"})
    void healthAndOpsEndpointsStayOpen(String path) throws IOException {
        assertThat(rawGet(path)).startsWith("HTTP/1.1 200");
    }

    @Test
    void anEndpointOutsideTheApiPrefixStillNeedsAToken() throws IOException {
        // Before: the filter only looked at paths starting with /api/v1/, so this answered 200 to anyone.
        assertThat(rawGet("/test-outside-api/probe")).startsWith("HTTP/1.1 401");
        as(Api.tokenFor("auditor")).get("/test-outside-api/probe").then().statusCode(200);
        // Without @Requires it is refused to everyone, as inside the prefix.
        assertThat(rawGet("/test-outside-api/unannotated")).startsWith("HTTP/1.1 401");
        as(adminToken()).get("/test-outside-api/unannotated").then().statusCode(403);
    }

    /** One GET with the path exactly as given, and the whole response as text. */
    static String rawGet(String path) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            in.transferTo(buffer);
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }
}
