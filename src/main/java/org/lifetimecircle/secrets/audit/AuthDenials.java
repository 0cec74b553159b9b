package org.lifetimecircle.secrets.audit;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Failed authentication (401) audited in aggregate: anyone who can reach the port can send bad
 * tokens, and one durable event per 401 would let them flood the trail and queue the single writer
 * ahead of legitimate requests. A 401 only counts here (no I/O, no waiting); once a second a
 * background thread writes one {@code auth.denied} event per source address and reason with
 * {@code details.count}, and a last time at shutdown, before the writer stops. A count whose event
 * could not be written stays and is retried at the next flush: nothing is dropped. 403s (an
 * authenticated caller) are not aggregated: they stay one event per request.
 */
@ApplicationScoped
public class AuthDenials {

    private static final Logger LOG = Logger.getLogger(AuthDenials.class);
    /** Distinct (source, reason) windows held at once; beyond that, new sources share one window. */
    static final int MAX_WINDOWS = 1024;
    private static final long FLUSH_EVERY_MILLIS = 1000;

    /** A 401 without a bearer token, and one with a token that is malformed, unknown, expired, revoked or disabled. */
    public static final String MISSING_TOKEN = "missing-token";
    public static final String INVALID_TOKEN = "invalid-token";

    private record Key(String sourceIp, String reason) {
    }

    /** Mutated only inside the map's compute (under its bin lock), read only after its removal. */
    private static final class Window {
        long count;
        String firstRequestId;
        final TreeSet<String> endpoints = new TreeSet<>();
        boolean otherSources;
    }

    private final ConcurrentHashMap<Key, Window> windows = new ConcurrentHashMap<>();
    private final AuditWriter writer;
    private final Object flushing = new Object();
    private volatile Thread thread;
    private volatile boolean stopped;

    AuthDenials(AuditWriter writer) {
        this.writer = writer;
    }

    /** Counts one 401 of the current second; returns at once. */
    public void count(String sourceIp, String reason, String endpoint, String requestId) {
        Key key = new Key(sourceIp, reason);
        boolean other = false;
        if (!windows.containsKey(key) && windows.size() >= MAX_WINDOWS) {
            // Memory stays bounded whatever the number of source addresses (all of 127.0.0.0/8 is local).
            key = new Key(null, reason);
            other = true;
        }
        boolean otherSource = other;
        windows.compute(key, (k, w) -> {
            Window window = w == null ? new Window() : w;
            window.count++;
            if (window.firstRequestId == null) {
                window.firstRequestId = requestId;
            }
            if (endpoint != null) {
                window.endpoints.add(endpoint);
            }
            window.otherSources |= otherSource;
            return window;
        });
        ensureStarted();
    }

    private void ensureStarted() {
        if (thread != null || stopped) {
            return;
        }
        synchronized (this) {
            if (thread == null && !stopped) {
                Thread t = new Thread(this::loop, "audit-auth-denials");
                t.setDaemon(true);
                thread = t;
                t.start();
            }
        }
    }

    private void loop() {
        while (!stopped) {
            try {
                TimeUnit.MILLISECONDS.sleep(FLUSH_EVERY_MILLIS); // the aggregation period, not a test wait
            } catch (InterruptedException e) {
                return;
            }
            try {
                flush();
            } catch (RuntimeException e) {
                LOG.errorf("audit: aggregated auth.denied events not written (%s); retried", e.getClass().getSimpleName());
            }
        }
    }

    /**
     * Writes one event per window counted so far and waits until they are durable. A window whose
     * event fails goes back into the counts (merged with what arrived meanwhile).
     */
    public void flush() {
        synchronized (flushing) {
            List<Map.Entry<Key, Window>> drained = new ArrayList<>();
            for (Key key : List.copyOf(windows.keySet())) {
                Window w = windows.remove(key);
                if (w != null) {
                    drained.add(Map.entry(key, w));
                }
            }
            for (int i = 0; i < drained.size(); i++) {
                Map.Entry<Key, Window> e = drained.get(i);
                try {
                    writer.record(draft(e.getKey(), e.getValue()));
                } catch (RuntimeException failure) {
                    drained.subList(i, drained.size()).forEach(d -> putBack(d.getKey(), d.getValue()));
                    throw failure;
                }
            }
        }
    }

    private void putBack(Key key, Window old) {
        windows.merge(key, old, (now, back) -> {
            now.count += back.count;
            now.firstRequestId = back.firstRequestId != null ? back.firstRequestId : now.firstRequestId;
            now.endpoints.addAll(back.endpoints);
            now.otherSources |= back.otherSources;
            return now;
        });
    }

    private static AuditDraft draft(Key key, Window w) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("code", "unauthorized");
        details.put("status", 401);
        details.put("count", w.count);
        details.put("reason", key.reason());
        details.put("endpoints", List.copyOf(w.endpoints));
        if (w.otherSources) {
            details.put("otherSources", true);
        }
        return AuditDraft.by(Actors.ANONYMOUS).action("auth.denied").outcome(Outcome.DENIED)
                .request(w.firstRequestId, key.sourceIp()).details(details);
    }

    /** Before the writer stops (priority 10): the counts of the last second become durable too. */
    void onShutdown(@Observes @Priority(8) ShutdownEvent event) {
        stopped = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.errorf("audit: the last aggregated auth.denied events could not be written (%s)",
                    e.getClass().getSimpleName());
        }
    }
}
