package org.lifetimecircle.secrets.web;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The web console's static pages ({@code /console/}) and the libraries they load ({@code /_static/}, mvnpm
 * jars) need no token: every view calls the REST API with the token the user typed, so the one auth filter
 * and the audit cover the console too. What these responses carry instead is a strict browser policy: only
 * this origin's scripts, no inline script or eval, never framed, no MIME sniffing, no referrer.
 */
@ApplicationScoped
public class ConsoleHeaders {

    static final String CONSOLE = "/console";
    static final String STATIC = "/_static/";

    /**
     * {@code default-src 'self'} covers scripts, styles and fetches; no {@code 'unsafe-inline'} and no
     * {@code 'unsafe-eval'} anywhere. {@code frame-ancestors} and {@code form-action} do not fall back to
     * {@code default-src}, so they are named; {@code base-uri} so an injected {@code <base>} cannot move
     * the console's relative script paths elsewhere.
     */
    public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    void register(@Observes Filters filters) {
        filters.register(this::console, 950);
    }

    private void console(RoutingContext rc) {
        String path = rc.normalizedPath();
        if (path.equals(CONSOLE)) {
            // Relative, so it also works behind a reverse proxy that mounts the service under a prefix.
            rc.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, "console/").end();
            return;
        }
        if (path.startsWith(CONSOLE + "/") || path.startsWith(STATIC)) {
            rc.addHeadersEndHandler(v -> {
                var headers = rc.response().headers();
                headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
                headers.set("X-Content-Type-Options", "nosniff");
                headers.set("Referrer-Policy", "no-referrer");
                headers.set("X-Frame-Options", "DENY");
                // Pages and scripts are small and change with the jar: always revalidate, never a stale console.
                headers.set(HttpHeaders.CACHE_CONTROL, "no-cache");
            });
        }
        rc.next();
    }
}
