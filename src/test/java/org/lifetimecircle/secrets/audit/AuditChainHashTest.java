package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The hand-written canonical form must be exactly the JCS library's, or hashes would change. */
class AuditChainHashTest {

    private static final AuditEvent TEMPLATE = GoldenChain.events().get(2);

    @Test
    void theHandWrittenFormIsTheLibrarysForEveryCharacter() {
        for (int c = 0; c <= 0xffff; c++) {
            String s = "a" + (char) c + "b";
            AuditEvent e = with(s, s, TEMPLATE.details());
            assertThat(ChainHash.canonicalWithoutHash(e)).as("U+%04X", c).isEqualTo(library(e));
            if (!Character.isSurrogate((char) c)) { // a lone surrogate is not text a details map can hold
                AuditEvent d = with("x", "y", ChainHash.canonicalDetails(Map.of("k" + (char) c, s)));
                assertThat(ChainHash.canonicalWithoutHash(d)).as("details U+%04X", c).isEqualTo(library(d));
            }
        }
    }

    /** A read's flat details are written directly (issue 24): byte for byte what the JCS library makes of them. */
    @Test
    void flatDetailsWrittenDirectlyAreTheLibrarysForm() throws Exception {
        for (int c = 0; c <= 0xffff; c++) {
            if (Character.isSurrogate((char) c)) {
                continue;
            }
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("v" + (char) c, "a" + (char) c + "b");
            d.put((char) c + "k", c % 2 == 0);
            d.put("n", c - 30_000);
            assertThat(CanonicalJson.flatObject(d)).as("U+%04X", c).isEqualTo(jcs(d));
        }
        Map<String, Object> mixed = new LinkedHashMap<>();
        mixed.put("secretVersions", "LTC_SECRET_KEY:12,OTHER:3");
        mixed.put("notModified", false);
        mixed.put("fingerprint", "hmac-sha256:00ff");
        mixed.put("tokenId", "tok_1");
        mixed.put("Z", null);
        mixed.put("big", 999_999_999_999_999L);
        mixed.put("neg", -999_999_999_999_999L);
        mixed.put("short", (short) 7);
        mixed.put("é", "日本");
        assertThat(CanonicalJson.flatObject(mixed)).isEqualTo(jcs(mixed));
        assertThat(ChainHash.canonicalDetails(mixed)).isEqualTo(jcs(mixed));
        // Not flat, not exact, or not plain text: left to the library (and its refusals).
        assertThat(CanonicalJson.flatObject(Map.of("a", List.of(1)))).isNull();
        assertThat(CanonicalJson.flatObject(Map.of("a", 1_000_000_000_000_000L))).isNull();
        assertThat(CanonicalJson.flatObject(Map.of("a", 1.5))).isNull();
        assertThat(CanonicalJson.flatObject(Map.of("a", "\uD83D\uDE00"))).isNull();
        assertThatThrownBy(() -> ChainHash.canonicalDetails(Map.of("a", 1.5))).isInstanceOf(IllegalArgumentException.class);
    }

    private static String jcs(Map<String, Object> map) throws Exception {
        return new org.erdtman.jcs.JsonCanonicalizer(new ObjectMapper().writeValueAsString(map)).getEncodedString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"b\":1,\"a\":2}", "{ }", "{}\n", "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0041\"}",
            "{\"a\":\"\\/\"}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\uD83D\\uDE00\"}", "{\"😀\":1,\"a\":2}", "{\"a\":-0}",
            "{\"a\":1234567890123456789}", "{\"a\":9007199254740993}", "{\"a\":1e2}", "[1, 2]",
            "{\"a\":1.5}", "{\"a\":01}", "{\"a\":", "", "{\"a\":1}x"})
    void detailsTheCheckDoesNotVouchForAreTreatedAsTheLibraryTreatsThem(String details) {
        assertThat(CanonicalJson.isCanonical(details)).isFalse();
        AuditEvent e = with("x", "y", details);
        String expected;
        try {
            expected = library(e);
        } catch (RuntimeException refused) {
            assertThatThrownBy(() -> ChainHash.canonicalWithoutHash(e)).isInstanceOf(refused.getClass());
            return;
        }
        assertThat(ChainHash.canonicalWithoutHash(e)).isEqualTo(expected);
        assertThat(ChainHash.hash(e.seq(), e.time(), e.actor(), e.action(), e.environment(), e.target(),
                e.outcome().name(), e.requestId(), e.sourceIp(), details, e.prevHash())).isEqualTo(hashByLibrary(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "[]", "null", "\"x\"", "-12", "{\"B\":{},\"a\":[1,-2,true,false,null],\"é\":\"日本\"}"})
    void canonicalDetailsAreVouchedFor(String details) {
        assertThat(CanonicalJson.isCanonical(details)).isTrue();
        AuditEvent e = with("x", "y", details);
        assertThat(ChainHash.canonicalWithoutHash(e)).isEqualTo(library(e));
    }

    @Test
    void theCheckVouchesOnlyForTextTheLibraryLeavesUnchanged() {
        Random random = new Random(8785);
        int vouched = 0;
        for (int i = 0; i < 20_000; i++) {
            String canonical = ChainHash.canonicalDetails(randomObject(random, 0));
            String candidate = switch (i % 4) {
                case 0 -> canonical;
                case 1 -> canonical.replaceFirst(",", ", ");
                case 2 -> canonical.replaceFirst("\\d", "0$0");
                default -> swapFirstTwoKeys(canonical);
            };
            if (CanonicalJson.isCanonical(candidate)) {
                vouched++;
                AuditEvent e = with("x", "y", candidate);
                assertThat(library(e)).as(candidate).isEqualTo(ChainHash.canonicalWithoutHash(e));
                assertThat(candidate).isEqualTo(ChainHash.canonicalDetails(parse(candidate)));
            }
        }
        assertThat(vouched).as("most canonical details take the fast path").isGreaterThan(3_000);
    }

    @Test
    void theGoldenChainsHashesAreThoseOfThePreviousImplementation() {
        // The golden files' hashes were computed by the JCS library path; see AuditExportFormatTest.
        for (AuditEvent e : GoldenChain.events()) {
            assertThat(hashByLibrary(e)).isEqualTo(e.hash());
        }
    }

    private static AuditEvent with(String actor, String target, String details) {
        return new AuditEvent(TEMPLATE.seq(), TEMPLATE.time(), actor, TEMPLATE.action(), TEMPLATE.environment(), target,
                TEMPLATE.outcome(), TEMPLATE.requestId(), TEMPLATE.sourceIp(), details, TEMPLATE.prevHash(), null);
    }

    private static String library(AuditEvent e) {
        return ChainHash.canonicalByLibrary(e.seq(), e.time(), e.actor(), e.action(), e.environment(), e.target(),
                e.outcome().name(), e.requestId(), e.sourceIp(), e.details(), e.prevHash());
    }

    private static String hashByLibrary(AuditEvent e) {
        try {
            byte[] text = (e.prevHash() + "\n" + library(e)).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text));
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static Map<String, Object> randomObject(Random r, int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            m.put(randomString(r), randomValue(r, depth + 1));
        }
        return m;
    }

    private static Object randomValue(Random r, int depth) {
        switch (r.nextInt(depth > 3 ? 4 : 6)) {
            case 0: return randomString(r);
            case 1: return switch (r.nextInt(4)) {
                case 0 -> (long) r.nextInt(100);
                case 1 -> -r.nextLong() % 1_000_000_000_000_000L;
                case 2 -> r.nextLong() >>> 10;
                default -> 0L;
            };
            case 2: return r.nextBoolean();
            case 3: return null;
            case 4: return randomObject(r, depth);
            default:
                List<Object> list = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    list.add(randomValue(r, depth + 1));
                }
                return list;
        }
    }

    private static String randomString(Random r) {
        String alphabet = "aAbZ09 _-.:é日😀\"\\\n\t\u0001\u007f\u2028";
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(5); i > 0; i--) {
            int p = r.nextInt(alphabet.length());
            s.append(Character.isSurrogate(alphabet.charAt(p)) ? "😀" : String.valueOf(alphabet.charAt(p)));
        }
        return s.toString();
    }

    private static String swapFirstTwoKeys(String json) {
        int a = json.indexOf("{\"");
        int comma = a < 0 ? -1 : json.indexOf(",\"", a);
        int colon = comma < 0 ? -1 : json.indexOf(':', comma);
        if (colon < 0) {
            return json;
        }
        // Crude on purpose: the result may be malformed or unsorted; the check must not vouch wrongly.
        return "{" + json.substring(comma + 1, colon + 1) + json.substring(a + 1);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        try {
            return new ObjectMapper().readValue(json, Map.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
