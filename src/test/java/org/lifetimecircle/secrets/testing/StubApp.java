package org.lifetimecircle.secrets.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The app a test environment points at, on {@link TestDataDir#healthPort()}: {@code /health} answers
 * the status the test sets, {@code /alert} keeps every alert the service POSTs.
 */
public final class StubApp implements AutoCloseable {

    /** The status {@code /health} answers; tests set it. */
    public final AtomicInteger health = new AtomicInteger(200);
    /** Every alert body received, in order. */
    public final List<String> alerts = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    private StubApp(HttpServer server) {
        this.server = server;
    }

    public static StubApp start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", TestDataDir.healthPort()), 0);
            StubApp app = new StubApp(server);
            server.createContext("/health", exchange -> {
                // Like uvicorn 0.17: a request offering an h2c upgrade gets 400. The service must not offer it.
                int status = exchange.getRequestHeaders().containsKey("Upgrade") ? 400 : app.health.get();
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
            });
            server.createContext("/alert", exchange -> {
                app.alerts.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                exchange.sendResponseHeaders(204, -1);
                exchange.close();
            });
            server.start();
            return app;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
