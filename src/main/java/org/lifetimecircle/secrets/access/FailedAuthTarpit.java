package org.lifetimecircle.secrets.access;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/**
 * Slows down a flood of failed authentication so that it cannot take the CPU a legitimate request needs.
 * Anyone who reaches the port can send bad tokens as fast as the machine answers them, and on two cores a
 * closed-loop flood that is answered at once takes the fetch's CPU whatever else the service does. So once a
 * source address has failed authentication more than {@code ltc-secrets.tokens.free-failures-per-second} times in the current or
 * previous second, its next requests that carry no token, or a token that has not authenticated lately, wait
 * {@link #DELAY_MILLIS} on a timer of the event loop (no thread, no database) before they are handled at all;
 * a flood then runs at about one request per connection per delay. Requests with a token that recently
 * authenticated pass at once, so a deploy script on the same host as the flood is not slowed. Every delayed
 * request is still answered and audited as usual. Only requests without a body (GET, HEAD, DELETE) wait: a body
 * arriving while a request waits would have to be buffered. Seconds are the JVM's monotonic time, not the
 * service's clock: this is about the real rate of requests (tests move the service's clock).
 */
@ApplicationScoped
public class FailedAuthTarpit {

    static final long DELAY_MILLIS = 1000;
    /** Bounds memory whatever the number of sources or tokens: beyond it the tables start afresh. */
    private static final int MAX_ENTRIES = 4096;
    private static final Set<HttpMethod> WITHOUT_BODY = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE);

    /** Failures of one source: the second they were counted in, and the counts of that second and the one before. */
    private static final class Failures {
        long second;
        final AtomicLong current = new AtomicLong();
        volatile long previous;
    }

    private final ConcurrentHashMap<String, Failures> failures = new ConcurrentHashMap<>();
    /** Token ids that authenticated lately: their requests never wait. */
    private final Set<String> recentlyGood = ConcurrentHashMap.newKeySet();
    private final Vertx vertx;
    /** Failures a source may have per second before its unauthenticated requests wait; 0: never wait. */
    private final int freeFailures;

    FailedAuthTarpit(Vertx vertx, LtcSecretsConfig config) {
        this.vertx = vertx;
        this.freeFailures = config.tokens().freeFailuresPerSecond();
    }

    private static long second() {
        return System.nanoTime() / 1_000_000_000L;
    }

    /** Before REST routing: a request the tarpit holds is handed on after the delay. */
    void install(@Observes Router router) {
        router.route("/api/*").order(-100).handler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        String source = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
        if (WITHOUT_BODY.contains(ctx.request().method())
                && shouldWait(source, tokenId(ctx.request().getHeader("Authorization")))) {
            vertx.setTimer(DELAY_MILLIS, id -> ctx.next());
        } else {
            ctx.next();
        }
    }

    /** A request from {@code source} failed authentication. */
    void failed(String source) {
        if (source == null || freeFailures <= 0) {
            return;
        }
        if (failures.size() >= MAX_ENTRIES && !failures.containsKey(source)) {
            failures.clear();
        }
        long now = second();
        Failures f = failures.computeIfAbsent(source, s -> new Failures());
        synchronized (f) {
            if (f.second != now) {
                f.previous = f.second == now - 1 ? f.current.get() : 0;
                f.current.set(0);
                f.second = now;
            }
        }
        f.current.incrementAndGet();
    }

    /** A request with this token id authenticated: its next ones never wait. */
    void succeeded(String tokenId) {
        if (tokenId == null || recentlyGood.contains(tokenId)) {
            return;
        }
        if (recentlyGood.size() >= MAX_ENTRIES) {
            recentlyGood.clear();
        }
        recentlyGood.add(tokenId);
    }

    /** Whether a request from {@code source} with this token id (empty: none or malformed) waits first. */
    boolean shouldWait(String source, Optional<String> tokenId) {
        if (source == null || freeFailures <= 0 || tokenId.map(recentlyGood::contains).orElse(false)) {
            return false;
        }
        Failures f = failures.get(source);
        if (f == null) {
            return false;
        }
        long now = second();
        long recent;
        synchronized (f) {
            recent = f.second == now ? Math.max(f.current.get(), f.previous)
                    : f.second == now - 1 ? f.current.get() : 0;
        }
        return recent > freeFailures;
    }

    private static Optional<String> tokenId(String authorization) {
        if (authorization == null || authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        return TokenCodec.idOf(authorization.substring(7).trim());
    }
}
