package org.lifetimecircle.secrets.web;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Refuses the JSON literal {@code null} as a request body. Jackson reads it as a null entity, the
 * same as no body at all, and endpoints whose body is optional ({@code POST …/tokens}) would take
 * it for "use the defaults". No endpoint takes {@code null}: only an empty body means "no body".
 * Bodies are at most {@code ltc-secrets.max-body-size} (HttpFilters), so reading one whole is cheap.
 */
@Provider
public class NullBodyInterceptor implements ReaderInterceptor {

    @Override
    public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
        if (MediaType.APPLICATION_JSON_TYPE.isCompatible(context.getMediaType())) {
            byte[] body = context.getInputStream().readAllBytes();
            if (isNullLiteral(body)) {
                throw ApiException.invalid("the body must be a JSON object, not null; send no body for the defaults");
            }
            context.setInputStream(new ByteArrayInputStream(body));
        }
        return context.proceed();
    }

    /** {@code null} with optional JSON whitespace around it. */
    static boolean isNullLiteral(byte[] body) {
        int start = 0;
        int end = body.length;
        while (start < end && whitespace(body[start])) {
            start++;
        }
        while (end > start && whitespace(body[end - 1])) {
            end--;
        }
        return end - start == 4 && body[start] == 'n' && body[start + 1] == 'u' && body[start + 2] == 'l'
                && body[start + 3] == 'l';
    }

    private static boolean whitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }
}
