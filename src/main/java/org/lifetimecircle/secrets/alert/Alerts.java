package org.lifetimecircle.secrets.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/**
 * Raises alerts: always an ERROR log line, and a JSON POST to {@code ltc-secrets.alerts.webhook-url}
 * when set, sent in the background with a timeout and three attempts. Alerts carry names, ids and
 * reasons only, never a value; delivery never blocks or fails the work that raised them.
 */
@ApplicationScoped
public class Alerts {

    private static final Logger LOG = Logger.getLogger(Alerts.class);
    private static final int ATTEMPTS = 3;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final Optional<URI> webhook;
    private final ObjectMapper json;
    private final Clock clock;
    // HTTP/1.1: the JDK client's default h2c upgrade offer is refused (400) by some servers.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT).build();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "alert-sender");
        t.setDaemon(true);
        return t;
    });

    Alerts(LtcSecretsConfig config, ObjectMapper json, Clock clock) {
        this.webhook = config.alerts().webhookUrl();
        this.json = json;
        this.clock = clock;
    }

    /** Raises an alert of {@code kind} (e.g. {@code rotation.rolled-back}) about an environment. */
    public void raise(String kind, String environment, String summary, Map<String, Object> details) {
        LOG.errorf("ALERT %s [%s]: %s", kind, environment, summary);
        if (webhook.isEmpty()) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("service", "ltc-secrets");
        body.put("alert", kind);
        body.put("environment", environment);
        body.put("summary", summary);
        body.put("details", details);
        body.put("time", clock.instant().toString());
        byte[] payload;
        try {
            payload = json.writeValueAsBytes(body);
        } catch (Exception e) {
            LOG.errorf("alert %s could not be encoded: %s", kind, e.getClass().getSimpleName());
            return;
        }
        sender.execute(() -> deliver(kind, payload));
    }

    private void deliver(String kind, byte[] payload) {
        HttpRequest request = HttpRequest.newBuilder(webhook.get()).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status / 100 == 2) {
                    return;
                }
                LOG.warnf("alert %s: webhook answered %d (attempt %d of %d)", kind, status, attempt, ATTEMPTS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warnf("alert %s: webhook failed: %s (attempt %d of %d)", kind, e.getClass().getSimpleName(),
                        attempt, ATTEMPTS);
            }
            try {
                Thread.sleep(500L * attempt); // back off between delivery attempts (production code, not a test)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.errorf("alert %s could not be delivered to the webhook after %d attempts", kind, ATTEMPTS);
    }
}
