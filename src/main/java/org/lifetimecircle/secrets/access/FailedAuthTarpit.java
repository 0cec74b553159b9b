package org.lifetimecircle.secrets.access;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HexFormat;
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
 * previous second, its next requests that carry no token, or a token that has not authenticated in the last
 * {@link #GOOD_FOR_NANOS} (recognised by the token's hash, never by its public id), wait
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
    /** Bounds memory whatever the number of sources or tokens. */
    private static final int MAX_ENTRIES = 4096;
    /** Sources beyond MAX_ENTRIES share one count: cycling through addresses cannot wipe the others' counts. */
    private static final String OTHER_SOURCES = "*";
    /** How long a token that authenticated keeps its requests out of the tarpit. */
    static final long GOOD_FOR_NANOS = 600_000_000_000L;
    private static final Set<HttpMethod> WITHOUT_BODY = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE);

    /** Failures of one source: the second they were counted in, and the counts of that second and the one before. */
    private static final class Failures {
        long second;
        final AtomicLong current = new AtomicLong();
        volatile long previous;
    }

    private final ConcurrentHashMap<String, Failures> failures = new ConcurrentHashMap<>();
    /**
     * Hashes of tokens that authenticated lately, with when: their requests never wait. Keyed by the token's
     * SHA-256, not its id: the id is public (audit details, listings), so a flood could present it with a wrong
     * secret and pass.
     */
    private final ConcurrentHashMap<String, Long> recentlyGood = new ConcurrentHashMap<>();
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
                && shouldWait(source, bearer(ctx.request().getHeader("Authorization")))) {
            vertx.setTimer(DELAY_MILLIS, id -> {
                if (!ctx.response().closed()) { // a flooder that hung up meanwhile gets no work at all
                    ctx.next();
                }
            });
        } else {
            ctx.next();
        }
    }

    /** A request from {@code source} failed authentication. */
    void failed(String source) {
        if (source == null || freeFailures <= 0) {
            return;
        }
        String key = failures.size() >= MAX_ENTRIES && !failures.containsKey(source) ? OTHER_SOURCES : source;
        long now = second();
        Failures f = failures.computeIfAbsent(key, s -> new Failures());
        synchronized (f) {
            if (f.second != now) {
                f.previous = f.second == now - 1 ? f.current.get() : 0;
                f.current.set(0);
                f.second = now;
            }
        }
        f.current.incrementAndGet();
    }

    /** A request with this token authenticated: its next ones never wait (for {@link #GOOD_FOR_NANOS}). */
    void succeeded(String presentedToken) {
        if (freeFailures <= 0 || presentedToken == null) {
            return;
        }
        long now = System.nanoTime();
        if (recentlyGood.size() >= MAX_ENTRIES) {
            recentlyGood.values().removeIf(at -> now - at > GOOD_FOR_NANOS);
            if (recentlyGood.size() >= MAX_ENTRIES) {
                recentlyGood.clear(); // only valid tokens get here: the service minted every one of them
            }
        }
        recentlyGood.put(HexFormat.of().formatHex(TokenCodec.hash(presentedToken)), now);
    }

    /** Whether a request from {@code source} presenting this token (empty: none) waits first. */
    boolean shouldWait(String source, Optional<String> presentedToken) {
        if (source == null || freeFailures <= 0) {
            return false;
        }
        Failures f = failures.containsKey(source) ? failures.get(source) : failures.get(OTHER_SOURCES);
        if (f == null) {
            return false;
        }
        long now = second();
        long recent;
        synchronized (f) {
            recent = f.second == now ? Math.max(f.current.get(), f.previous)
                    : f.second == now - 1 ? f.current.get() : 0;
        }
        if (recent <= freeFailures) {
            return false;
        }
        // Hashed only for a source past its free failures: the fetch path of a quiet host pays nothing here.
        Long good = presentedToken.map(t -> recentlyGood.get(HexFormat.of().formatHex(TokenCodec.hash(t)))).orElse(null);
        return good == null || System.nanoTime() - good > GOOD_FOR_NANOS;
    }

    private static Optional<String> bearer(String authorization) {
        if (authorization == null || authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        return Optional.of(authorization.substring(7).trim());
    }
}
