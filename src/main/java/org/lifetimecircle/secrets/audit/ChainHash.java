package org.lifetimecircle.secrets.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.erdtman.jcs.JsonCanonicalizer;

/**
 * The contract's hash rule: {@code hash = hex(SHA-256(prevHash || "\n" || JCS(event without hash)))},
 * with RFC 8785 canonical JSON from a well-kept implementation.
 */
public final class ChainHash {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private ChainHash() {
    }

    /** The event time as hashed and stored: RFC 3339 UTC with milliseconds. */
    public static String time(Instant instant) {
        return TIME.format(instant);
    }

    /** Canonical JSON of a details map. Floating-point numbers are refused: their text is not portable. */
    public static String canonicalDetails(Map<String, Object> details) {
        return canonical(details);
    }

    /** Canonical JSON of the event without its hash. */
    public static String canonicalWithoutHash(AuditEvent e) {
        return canonicalFields(e.seq(), e.time(), e.actor(), e.action(), e.environment(), e.target(),
                e.outcome().name(), e.requestId(), e.sourceIp(), e.details(), e.prevHash());
    }

    /** The hash of an event given its fields, details as canonical JSON text. */
    public static String hash(long seq, String time, String actor, String action, String environment, String target,
                              String outcome, String requestId, String sourceIp, String details, String prevHash) {
        String canonical = canonicalFields(seq, time, actor, action, environment, target, outcome, requestId,
                sourceIp, details, prevHash);
        return sha256Hex(prevHash + "\n" + canonical);
    }

    private static String canonicalFields(long seq, String time, String actor, String action, String environment,
                                          String target, String outcome, String requestId, String sourceIp,
                                          String details, String prevHash) {
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", seq);
            m.put("time", time);
            m.put("actor", actor);
            m.put("action", action);
            m.put("environment", environment);
            m.put("target", target);
            m.put("outcome", outcome);
            m.put("requestId", requestId);
            m.put("sourceIp", sourceIp);
            m.put("details", MAPPER.readTree(details));
            m.put("prevHash", prevHash);
            return canonical(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored audit details are not JSON", e);
        }
    }

    private static String canonical(Object value) {
        try {
            String json = MAPPER.writeValueAsString(value);
            if (json.contains(".") && containsFloat(MAPPER.readTree(json))) {
                throw new IllegalArgumentException("audit events carry no floating-point numbers");
            }
            return new JsonCanonicalizer(json).getEncodedString();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot canonicalise an audit event", e);
        }
    }

    private static boolean containsFloat(com.fasterxml.jackson.databind.JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return true;
        }
        for (com.fasterxml.jackson.databind.JsonNode child : node) {
            if (containsFloat(child)) {
                return true;
            }
        }
        return false;
    }

    static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
