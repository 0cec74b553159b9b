package org.lifetimecircle.secrets.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, valid chain of events with every awkward value an export or a hash can meet: nulls,
 * quotes, backslashes, commas and line breaks, control characters, non-ASCII and non-BMP text,
 * details with escapes, nesting, non-ASCII keys and large integers. {@code golden-export.jsonl}
 * and {@code golden-export.csv} are these events as exported by the implementation before the
 * hand-written formats (Jackson per line, the old CSV writer, hashes by the JCS library).
 */
final class GoldenChain {

    static final String AWKWARD = "a,b \"quoted\" \\back\\slash\r\nnext\tline \u0001\u0008\u000b\u000c\u001f\u007f "
            + "é ü ß 日本 😀 \u2028\u2029 end";

    private GoldenChain() {
    }

    static List<AuditEvent> events() {
        List<AuditEvent> events = new ArrayList<>();
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("z", false);
        nested.put("a", List.of(1, 2, mapOf("b", null)));
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("nested", nested);
        start.put("auditChainValid", true);
        start.put("environments", List.of("prod", "staging"));
        start.put("n", -42);
        add(events, "2026-03-06T09:00:00.000Z", "system", "system.start", null, null, Outcome.SUCCESS, null, null,
                ChainHash.canonicalDetails(start));
        add(events, "2026-03-06T09:00:00.120Z", "bootstrap-admin", "principal.create", null, "deploy-bot",
                Outcome.SUCCESS, "3f9c0a1b2c3d4e5f3f9c0a1b2c3d4e5f", "127.0.0.1",
                ChainHash.canonicalDetails(mapOf("role", "deployer")));
        Map<String, Object> denied = new LinkedHashMap<>();
        denied.put("status", 401);
        denied.put("endpoint", "envfile.read");
        denied.put("code", "unauthorized");
        add(events, "2026-03-06T09:00:01.001Z", "anonymous", "auth.denied", "prod", AWKWARD, Outcome.DENIED,
                "req,with \"quotes\"\r\n", "::1", ChainHash.canonicalDetails(denied));
        add(events, "2026-03-06T09:00:02.002Z", AWKWARD, "grant.create", "staging", "x", Outcome.FAILED,
                "r-é-😀", "10.0.0.1", ChainHash.canonicalDetails(mapOf("reason", AWKWARD)));
        Map<String, Object> unsorted = new LinkedHashMap<>();
        unsorted.put("tokenId", "0123456789abcdef");
        unsorted.put("expiresAt", "2026-03-06T17:00:03.003Z");
        add(events, "2026-03-06T09:00:03.003Z", "alice", "token.create", null, "alice", Outcome.SUCCESS,
                "0123456789abcdef0123456789abcdef", "127.0.0.1", ChainHash.canonicalDetails(unsorted));
        Map<String, Object> big = new LinkedHashMap<>();
        big.put("zero", 0);
        big.put("big", 9007199254740991L);
        big.put("negative", -123456789012345L);
        add(events, "2026-03-06T09:00:04.004Z", "bob", "rotation.request", "prod", "LTC_SECRET_KEY", Outcome.SUCCESS,
                null, "127.0.0.1", ChainHash.canonicalDetails(big));
        Map<String, Object> keys = new LinkedHashMap<>();
        keys.put("é", 3);
        keys.put("a", List.of());
        keys.put("B", Map.of());
        keys.put("\u007f", "");
        add(events, "2026-03-06T09:00:05.005Z", "carol", "environment.read", "staging", null, Outcome.SUCCESS,
                "9f2c41d07be85a13", "127.0.0.1", ChainHash.canonicalDetails(keys));
        Map<String, Object> emoji = new LinkedHashMap<>();
        emoji.put("😀", "smile");
        emoji.put("\uff61", "halfwidth");
        add(events, "2026-03-06T09:00:06.006Z", "dave", "envfile.read", "prod", null, Outcome.SUCCESS,
                "5b0c9e2f7a41d3c8", "127.0.0.1", ChainHash.canonicalDetails(emoji));
        add(events, "2026-03-06T09:00:07.007Z", "deploy-bot", "envfile.read", "prod", null, Outcome.SUCCESS,
                "00000000000000000000000000000000", "127.0.0.1", "{}");
        return events;
    }

    private static void add(List<AuditEvent> events, String time, String actor, String action, String environment,
                            String target, Outcome outcome, String requestId, String sourceIp, String details) {
        long seq = events.size() + 1;
        String prev = events.isEmpty() ? AuditEvent.GENESIS : events.get(events.size() - 1).hash();
        String hash = ChainHash.hash(seq, time, actor, action, environment, target, outcome.name(), requestId,
                sourceIp, details, prev);
        events.add(new AuditEvent(seq, time, actor, action, environment, target, outcome, requestId, sourceIp,
                details, prev, hash));
    }

    private static Map<String, Object> mapOf(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, value);
        return m;
    }
}
