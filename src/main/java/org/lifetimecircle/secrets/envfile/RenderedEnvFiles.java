package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;

/**
 * The last env file served per environment, kept sealed so a fetch need not unwrap, decrypt and render
 * every version again (about a third of a fetch's CPU, profiled in docs/performance.md).
 *
 * <p>Never trusted on its own: every fetch still reads the environment's CURRENT and PREVIOUS rows from the
 * database, and the copy is used only if those rows are exactly the ones it was rendered from (secret,
 * version, state, promotion time and ciphertext, byte for byte) under the very same policy object. So
 * nothing has to invalidate it: a promotion, an emergency, a restore or another instance's write changes
 * the rows the next fetch reads, and that fetch renders afresh. Whatever the writer commits is served from
 * the next request on, as before.
 *
 * <p>No plaintext is kept: the rendered bytes are sealed with AES-256-GCM (the JDK's provider, which uses the
 * CPU's AES and carry-less multiply instructions) under a key made at start that never leaves this object,
 * with the environment as associated data; a fetch opens a fresh copy and erases it once written, as a
 * freshly rendered file was. A heap dump holds the key and the sealed file, so it is no weaker than holding
 * the master key and the sealed versions, which the process does anyway, and no plaintext value lies in
 * the heap between fetches.
 */
@ApplicationScoped
class RenderedEnvFiles {

    private static final int TAG_BITS = 128;
    private static final int IV_BYTES = 12;

    /** What a fetch serves: {@code content} holds secrets and is the caller's to erase. */
    record Served(byte[] content, String sha256, String fingerprint, String secretVersions) {
        @Override
        public String toString() {
            return "Served[sha256=" + sha256 + ", secretVersions=" + secretVersions + "]";
        }
    }

    /** A sealed file and what it was rendered from. */
    private record Entry(EnvironmentPolicy policy, Map<String, CurrentValues.Slot> slots, byte[] iv, byte[] sealed,
                         String sha256, String fingerprint, String secretVersions) {
    }

    /** One cipher per thread: looking the provider up per fetch was a third of the opening's cost. */
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    });

    private final SecureRandom random = new SecureRandom();
    private final SecretKey key;
    private final Map<String, Entry> byEnvironment = new ConcurrentHashMap<>();

    RenderedEnvFiles() {
        try {
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(256, random);
            key = generator.generateKey();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256 is not available", e);
        }
    }

    /** The file rendered from exactly these rows under this policy, if kept; empty otherwise. */
    Served find(EnvironmentPolicy policy, Map<String, CurrentValues.Slot> slots) {
        Entry e = byEnvironment.get(policy.environment());
        if (e == null || e.policy() != policy || !sameRows(e.slots(), slots)) {
            return null;
        }
        return new Served(open(e, policy.environment()), e.sha256(), e.fingerprint(), e.secretVersions());
    }

    /** Keeps a sealed copy of {@code served}, rendered from {@code slots} under {@code policy}. */
    void keep(EnvironmentPolicy policy, Map<String, CurrentValues.Slot> slots, Served served) {
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        byte[] sealed;
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            c.updateAAD(aad(policy.environment()));
            sealed = c.doFinal(served.content());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing the rendered env file failed", e);
        }
        byEnvironment.put(policy.environment(), new Entry(policy, Map.copyOf(slots), iv, sealed, served.sha256(),
                served.fingerprint(), served.secretVersions()));
    }

    private byte[] open(Entry e, String environment) {
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, e.iv()));
            c.updateAAD(aad(environment));
            return c.doFinal(e.sealed());
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException("opening the rendered env file failed", ex);
        }
    }

    private static byte[] aad(String environment) {
        return environment.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static boolean sameRows(Map<String, CurrentValues.Slot> kept, Map<String, CurrentValues.Slot> now) {
        if (kept.size() != now.size()) {
            return false;
        }
        for (Map.Entry<String, CurrentValues.Slot> k : kept.entrySet()) {
            CurrentValues.Slot n = now.get(k.getKey());
            if (n == null || !sameRow(k.getValue().current(), n.current())
                    || !sameRow(k.getValue().previous(), n.previous())) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameRow(SecretVersionEntity a, SecretVersionEntity b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.version == b.version && a.state == b.state && Objects.equals(a.secret, b.secret)
                && Objects.equals(a.environment, b.environment) && Objects.equals(a.promotedAt, b.promotedAt)
                && Arrays.equals(a.ciphertext, b.ciphertext);
    }
}
