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
    private static final HexFormat HEX = HexFormat.of();
    /** JCS prints numbers as doubles: from 2^53 on, a seq would not survive unchanged (never reached). */
    private static final long MAX_EXACT_SEQ = 1L << 53;
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
        String flat = CanonicalJson.flatObject(details);
        return flat != null ? flat : canonical(details);
    }

    /** Canonical JSON of the event without its hash. */
    public static String canonicalWithoutHash(AuditEvent e) {
        StringBuilder out = new StringBuilder(512);
        appendCanonical(out, e.seq(), e.time(), e.actor(), e.action(), e.environment(), e.target(),
                e.outcome().name(), e.requestId(), e.sourceIp(), e.details(), e.prevHash(), EventRows.ANY_ESCAPED);
        return out.toString();
    }

    /** The hash of an event given its fields, details as canonical JSON text. */
    public static String hash(long seq, String time, String actor, String action, String environment, String target,
                              String outcome, String requestId, String sourceIp, String details, String prevHash) {
        return new Hasher().hash(seq, time, actor, action, environment, target, outcome, requestId, sourceIp, details,
                prevHash);
    }

    /**
     * Computes event hashes with one digest and one text buffer, for loops over many events
     * (verification): a fresh MessageDigest and builder per event cost more than the hashing.
     * Not thread-safe.
     */
    static final class Hasher {
        private final MessageDigest sha256 = sha256();
        private final StringBuilder text = new StringBuilder(1024);

        String hash(long seq, String time, String actor, String action, String environment, String target,
                    String outcome, String requestId, String sourceIp, String details, String prevHash) {
            text.setLength(0);
            text.append(prevHash).append('\n');
            appendCanonical(text, seq, time, actor, action, environment, target, outcome, requestId, sourceIp,
                    details, prevHash, EventRows.ANY_ESCAPED);
            return digest();
        }

        /** The hash of a row {@link EventRows} just unpacked into {@code f}, with its {@link EventRows#escaped()}. */
        String hash(long seq, String[] f, int escaped) {
            String prevHash = f[EventRows.PREV_HASH];
            text.setLength(0);
            text.append(prevHash).append('\n');
            appendCanonical(text, seq, f[EventRows.TIME], f[EventRows.ACTOR], f[EventRows.ACTION],
                    f[EventRows.ENVIRONMENT], f[EventRows.TARGET], f[EventRows.OUTCOME], f[EventRows.REQUEST_ID],
                    f[EventRows.SOURCE_IP], f[EventRows.DETAILS], prevHash, escaped);
            return digest();
        }

        private String digest() {
            // toString + getBytes keeps String's UTF-8 rules exactly (a lone surrogate becomes '?').
            return HEX.formatHex(sha256.digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * Appends JCS(event without hash). The event has a fixed shape, so the fields are written
     * directly in RFC 8785 key order; only {@code details} is free-form, and it is stored in
     * canonical form, which {@link CanonicalJson#isCanonical} confirms in one pass. Anything that
     * check does not vouch for (and an out-of-range seq) takes the library path, so the result is
     * always exactly what the JCS library gives for the whole event. {@code escaped}: which fields may hold a
     * character to escape ({@link EventRows#escaped()}); the others are not scanned for one.
     */
    private static void appendCanonical(StringBuilder out, long seq, String time, String actor, String action,
                                        String environment, String target, String outcome, String requestId,
                                        String sourceIp, String details, String prevHash, int escaped) {
        if (Math.abs(seq) >= MAX_EXACT_SEQ || !CanonicalJson.isCanonical(details)) {
            out.append(canonicalByLibrary(seq, time, actor, action, environment, target, outcome, requestId,
                    sourceIp, details, prevHash));
            return;
        }
        // Keys in UTF-16 order: action, actor, details, environment, outcome, prevHash, requestId, seq,
        // sourceIp, target, time.
        out.append("{\"action\":");
        CanonicalJson.appendString(out, action, EventRows.mayNeedEscape(escaped, EventRows.ACTION));
        out.append(",\"actor\":");
        CanonicalJson.appendString(out, actor, EventRows.mayNeedEscape(escaped, EventRows.ACTOR));
        out.append(",\"details\":").append(details);
        out.append(",\"environment\":");
        CanonicalJson.appendString(out, environment, EventRows.mayNeedEscape(escaped, EventRows.ENVIRONMENT));
        out.append(",\"outcome\":");
        CanonicalJson.appendString(out, outcome, EventRows.mayNeedEscape(escaped, EventRows.OUTCOME));
        out.append(",\"prevHash\":");
        CanonicalJson.appendString(out, prevHash, EventRows.mayNeedEscape(escaped, EventRows.PREV_HASH));
        out.append(",\"requestId\":");
        CanonicalJson.appendString(out, requestId, EventRows.mayNeedEscape(escaped, EventRows.REQUEST_ID));
        out.append(",\"seq\":").append(seq);
        out.append(",\"sourceIp\":");
        CanonicalJson.appendString(out, sourceIp, EventRows.mayNeedEscape(escaped, EventRows.SOURCE_IP));
        out.append(",\"target\":");
        CanonicalJson.appendString(out, target, EventRows.mayNeedEscape(escaped, EventRows.TARGET));
        out.append(",\"time\":");
        CanonicalJson.appendString(out, time, EventRows.mayNeedEscape(escaped, EventRows.TIME));
        out.append('}');
    }

    /** The reference path: the event as a map, serialised by Jackson, canonicalised by the JCS library. */
    static String canonicalByLibrary(long seq, String time, String actor, String action, String environment,
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

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
