package org.lifetimecircle.secrets.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A plain HTTP client for black-box tests of the packaged jar (no Quarkus test harness in between). */
public final class BlackBoxHttp {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private BlackBoxHttp() {
    }

    /** A finished exchange; the body as bytes so env files can be compared byte for byte. */
    public record Reply(int status, byte[] body, HttpResponse<byte[]> response) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonPath json() {
            return JsonPath.from(text());
        }

        public String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    public static Reply get(ServiceProcess service, String token, String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(service.baseUrl() + path)).GET(), token);
    }

    public static Reply post(ServiceProcess service, String token, String path, Object body)
            throws IOException, InterruptedException {
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
        return send(HttpRequest.newBuilder(URI.create(service.baseUrl() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)), token);
    }

    public static Reply delete(ServiceProcess service, String token, String path)
            throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(service.baseUrl() + path)).DELETE(), token);
    }

    private static Reply send(HttpRequest.Builder request, String token) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(request.timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), r.body(), r);
    }
}
