package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.AsRoot;

class MasterKeyLoaderTest {

    private static final String CREATE_HINT = "openssl rand -base64 32 > ";

    @TempDir
    Path dir;

    // ---- modes and file types --------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"0400", "0600"})
    void acceptsPrivateModes(String mode) throws IOException {
        byte[] key = sampleKey(1);
        Path file = write(encode(key) + "\n", mode);

        try (MasterKey loaded = MasterKeyLoader.load(file, false)) {
            assertThat(loaded.copyBytes()).isEqualTo(key);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0644", "0640", "0700", "0444"})
    void refusesOtherModesNamingTheModeAndTheFix(String mode) throws IOException {
        Path file = write(encode(sampleKey(2)) + "\n", mode);

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessage("master key file " + file + " has mode " + mode
                        + "; it must be 0400 or 0600 (run: chmod 0400 " + file + ")");
    }

    @Test
    void refusesSymlinkEvenToAValidKey() throws IOException {
        Path target = write("real.key", encode(sampleKey(3)) + "\n", "0400");
        Path link = Files.createSymbolicLink(dir.resolve("master.key"), target);

        assertThatThrownBy(() -> MasterKeyLoader.load(link, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is a symbolic link");
    }

    // ---- checked on the open file, not only by path ---------------------------------------------

    @Test
    void refusesAKeyFileOwnedByAnotherUser() throws Exception {
        AsRoot.assume("giving the key file to another user (chown)");
        Path file = write(encode(sampleKey(40)) + "\n", "0400");
        Files.setAttribute(file, "unix:uid", 65534); // nobody: could chmod or rewrite it at will

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is owned by uid 65534");
        // Allowed: owned by the service's user (this test's), as every other test here.
        Files.setAttribute(file, "unix:uid", ((Number) Files.getAttribute(dir, "unix:uid")).intValue());
        try (MasterKey loaded = MasterKeyLoader.load(file, false)) {
            assertThat(loaded.copyBytes()).isEqualTo(sampleKey(40));
        }
    }

    @Test
    void aReadableKeySwappedInBetweenThePathCheckAndTheOpenIsRefused() throws Exception {
        Path file = write(encode(sampleKey(41)) + "\n", "0400");
        Path loose = write("loose.key", encode(sampleKey(42)) + "\n", "0644");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, () -> swap(loose, file)))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("has mode 0644");
    }

    @Test
    void aSymlinkSwappedInBetweenThePathCheckAndTheOpenIsRefused() throws Exception {
        Path file = write(encode(sampleKey(43)) + "\n", "0400");
        Path target = write("real.key", encode(sampleKey(44)) + "\n", "0400");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);

        assertThatThrownBy(() -> MasterKeyLoader.load(file, () -> swap(link, file)))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("cannot read");
    }

    @Test
    void anUnchangedKeyLoadsThroughTheSameCheckedPath() throws Exception {
        Path file = write(encode(sampleKey(45)) + "\n", "0600");
        try (MasterKey loaded = MasterKeyLoader.load(file, () -> { })) {
            assertThat(loaded.copyBytes()).isEqualTo(sampleKey(45));
        }
    }

    private static void swap(Path replacement, Path file) {
        try {
            Files.move(replacement, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void refusesDanglingSymlinkInsteadOfCreatingThroughIt() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("master.key"), dir.resolve("elsewhere.key"));

        assertThatThrownBy(() -> MasterKeyLoader.load(link, true))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is a symbolic link");
        assertThat(dir.resolve("elsewhere.key")).doesNotExist();
    }

    @Test
    void refusesDirectory() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("master.key"));

        assertThatThrownBy(() -> MasterKeyLoader.load(sub, true))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is a directory");
    }

    @Test
    void refusesFifoWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("master.key");
        Process p = new ProcessBuilder("mkfifo", "-m", "0400", fifo.toString()).redirectErrorStream(true).start();
        assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo is available");

        assertThatThrownBy(() -> MasterKeyLoader.load(fifo, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is not a regular file");
    }

    // ---- content -----------------------------------------------------------------------------------

    @Test
    void acceptsKeyWithOneTrailingNewline() throws IOException {
        byte[] key = sampleKey(4);
        Path file = write(encode(key) + "\n", "0400");

        try (MasterKey loaded = MasterKeyLoader.load(file, false)) {
            assertThat(loaded.copyBytes()).isEqualTo(key);
        }
    }

    @Test
    void acceptsKeyWithoutTrailingNewline() throws IOException {
        byte[] key = sampleKey(5);
        Path file = write(encode(key), "0400");

        try (MasterKey loaded = MasterKeyLoader.load(file, false)) {
            assertThat(loaded.copyBytes()).isEqualTo(key);
        }
    }

    @Test
    void refusesSixteenByteKey() throws IOException {
        Path file = write(Base64.getEncoder().encodeToString(new byte[16]) + "\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("decodes to 16 bytes; it must be 32")
                .hasMessageContaining(CREATE_HINT + file + " && chmod 0400 " + file);
    }

    @Test
    void refusesThirtyThreeByteKey() throws IOException {
        // 33 bytes encode to 44 characters without padding: same length as a valid key.
        Path file = write(Base64.getEncoder().encodeToString(new byte[33]) + "\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("decodes to 33 bytes; it must be 32");
    }

    @Test
    void refusesUrlSafeBase64() throws IOException {
        byte[] key = keyWithPlusAndSlash();
        Path file = write(Base64.getUrlEncoder().encodeToString(key) + "\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is not valid base64")
                .hasMessageContaining("URL-safe")
                .hasMessageContaining(CREATE_HINT);
    }

    @Test
    void acceptsStandardBase64WithPlusAndSlash() throws IOException {
        byte[] key = keyWithPlusAndSlash();
        Path file = write(encode(key) + "\n", "0400");

        try (MasterKey loaded = MasterKeyLoader.load(file, false)) {
            assertThat(loaded.copyBytes()).isEqualTo(key);
        }
    }

    @Test
    void refusesTrailingSpaces() throws IOException {
        Path file = write(encode(sampleKey(6)) + "  \n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("contains spaces or tabs");
    }

    @Test
    void refusesCrlfLineEnding() throws IOException {
        Path file = write(encode(sampleKey(7)) + "\r\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("CRLF");
    }

    @Test
    void refusesTwoTrailingNewlines() throws IOException {
        Path file = write(encode(sampleKey(8)) + "\n\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("more than one trailing newline");
    }

    @Test
    void refusesMissingPadding() throws IOException {
        Path file = write(encode(sampleKey(9)).replace("=", "") + "\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is not valid base64");
    }

    @Test
    void refusesNonCanonicalLastCharacter() throws IOException {
        // Zero key encodes to "AAAA...AAA="; 'B' in the last data position sets a bit that 32 bytes do not use.
        String canonical = encode(new byte[32]);
        String stray = canonical.substring(0, 42) + "B=";
        Path file = write(stray + "\n", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is not valid base64");
    }

    @Test
    void refusesEmptyFile() throws IOException {
        Path file = write("", "0400");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is empty")
                .hasMessageContaining(CREATE_HINT);
    }

    @Test
    void refusesHugeFileBySizeWithoutReadingIt() throws IOException {
        byte[] big = new byte[2 * 1024 * 1024];
        Arrays.fill(big, (byte) 'A');
        Path file = dir.resolve("master.key");
        Files.write(file, big);
        Files.setPosixFilePermissions(file, perms("0400"));

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageContaining("is 2097152 bytes");
    }

    @Test
    void noErrorMessageEverContainsTheFileContent() throws IOException {
        String canary = "CanaryZebra7Q";
        List<String> contents = List.of(
                canary,                                                         // too short
                canary + "-" + canary + "\n",                                   // URL-safe character
                canary + "!" + canary + "\n",                                   // other character
                canary + " \n",                                                 // whitespace
                canary + "\r\n",                                                // CRLF
                canary + "\n\n",                                                // two newlines
                (canary + "xxx").repeat(4).substring(0, 44),                    // decodes to 33 bytes
                (canary + "xxx").repeat(2).substring(0, 24),                    // decodes to 18 bytes
                canary.repeat(200));                                            // too large
        List<Throwable> failures = new ArrayList<>();
        int i = 0;
        for (String content : contents) {
            Path file = write("key-" + i++, content, "0400");
            failures.add(catchThrowableOfType(() -> MasterKeyLoader.load(file, false), MasterKeyException.class));
        }
        Path looseMode = write("key-loose", canary + "\n", "0644");
        failures.add(catchThrowableOfType(() -> MasterKeyLoader.load(looseMode, false), MasterKeyException.class));

        for (Throwable failure : failures) {
            assertThat(failure).isNotNull();
            for (Throwable t = failure; t != null; t = t.getCause()) {
                assertThat(t.getMessage()).doesNotContain("Canary").doesNotContain("Zebra");
                assertThat(t.toString()).doesNotContain("Canary");
            }
        }
    }

    // ---- the previous key of a master-key rotation ---------------------------------------------------

    @Test
    void previousKeyLoadsLikeTheMasterKey() throws IOException {
        byte[] key = sampleKey(40);
        Path file = write(encode(key) + "\n", "0400");

        try (MasterKey previous = MasterKeyLoader.loadPrevious(file); MasterKey same = MasterKeyLoader.load(file, false)) {
            assertThat(previous.copyBytes()).isEqualTo(key);
            assertThat(previous.keyId()).isEqualTo(same.keyId());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0644", "0640"})
    void previousKeyGetsTheSameModeCheckAndSaysWhichFile(String mode) throws IOException {
        Path file = write(encode(sampleKey(41)) + "\n", mode);

        assertThatThrownBy(() -> MasterKeyLoader.loadPrevious(file))
                .isInstanceOf(MasterKeyException.class)
                .hasMessage("previous master key file " + file + " has mode " + mode
                        + "; it must be 0400 or 0600 (run: chmod 0400 " + file + ")");
    }

    @Test
    void previousKeyGetsTheSameContentChecksWithoutSuggestingANewKey() throws IOException {
        Path file = write(encode(sampleKey(42)).replace('+', '-') + "\r\n", "0400");

        Throwable refused = catchThrowableOfType(() -> MasterKeyLoader.loadPrevious(file), MasterKeyException.class);
        assertThat(refused).hasMessageStartingWith("previous master key file " + file + " contains a carriage return")
                .hasMessageContaining("restore the old master key from backup")
                .hasMessageNotContaining(CREATE_HINT);
    }

    @Test
    void missingPreviousKeyIsRefusedAndNeverCreated() {
        Path file = dir.resolve("previous.key");

        assertThatThrownBy(() -> MasterKeyLoader.loadPrevious(file))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageStartingWith("previous master key file " + file + " does not exist;")
                .hasMessageContaining("remove ltc-secrets.previous-master-key-file");
        assertThat(file).doesNotExist();
        assertThat(dir).isEmptyDirectory();
    }

    // ---- missing file and creation ---------------------------------------------------------------

    @Test
    void missingFileIsRefusedWithLoadCredentialHintWhenCreationIsOff() {
        Path file = dir.resolve("master.key");

        assertThatThrownBy(() -> MasterKeyLoader.load(file, false))
                .isInstanceOf(MasterKeyException.class)
                .hasMessageStartingWith("master key file " + file + " does not exist; in the prod profile it must"
                        + " be provided")
                .hasMessageContaining("LoadCredential=master.key:");
        assertThat(file).doesNotExist();
    }

    @Test
    void missingFileIsCreatedWithMode0400AndStandardBase64() throws Exception {
        Path file = dir.resolve("master.key");

        String firstId;
        try (MasterKey created = MasterKeyLoader.load(file, true)) {
            firstId = created.keyId();
            assertThat(Files.getPosixFilePermissions(file)).isEqualTo(perms("0400"));
            assertThat(stat(file)).isEqualTo("400");
            String content = Files.readString(file, StandardCharsets.US_ASCII);
            assertThat(content).matches("^[A-Za-z0-9+/]{43}=\n$");
            assertThat(created.copyBytes()).isEqualTo(Base64.getDecoder().decode(content.trim()));
        }
        try (MasterKey again = MasterKeyLoader.load(file, true)) {
            assertThat(again.keyId()).isEqualTo(firstId);
        }
        assertThat(leftoverTempFiles()).isEmpty();
    }

    @Test
    void missingParentDirectoryIsCreatedWithMode0700() throws Exception {
        Path file = dir.resolve("data").resolve("master.key");

        MasterKeyLoader.load(file, true).close();

        assertThat(stat(file.getParent())).isEqualTo("700");
        assertThat(stat(file)).isEqualTo("400");
    }

    @Test
    void twoFreshFilesHoldDifferentKeys() throws IOException {
        Path a = dir.resolve("a").resolve("master.key");
        Path b = dir.resolve("b").resolve("master.key");

        try (MasterKey first = MasterKeyLoader.load(a, true); MasterKey second = MasterKeyLoader.load(b, true)) {
            assertThat(first.keyId()).isNotEqualTo(second.keyId());
            assertThat(first.copyBytes()).isNotEqualTo(second.copyBytes());
        }
        assertThat(Files.readString(a)).isNotEqualTo(Files.readString(b));
    }

    @Test
    void concurrentCreatorsAllEndUpWithTheSameKey() throws Exception {
        Path file = dir.resolve("master.key");
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> ids = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ids.add(pool.submit(() -> {
                    start.await();
                    try (MasterKey k = MasterKeyLoader.load(file, true)) {
                        return k.keyId();
                    }
                }));
            }
            start.countDown();
            Set<String> distinct = new HashSet<>();
            for (Future<String> id : ids) {
                distinct.add(id.get(30, TimeUnit.SECONDS));
            }
            assertThat(distinct).hasSize(1);
            try (MasterKey onDisk = MasterKeyLoader.load(file, false)) {
                assertThat(distinct).containsExactly(onDisk.keyId());
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(leftoverTempFiles()).isEmpty();
    }

    // ---- the key value ---------------------------------------------------------------------------

    @Test
    void keyIdIsPrefixedTruncatedDomainSeparatedSha256() throws Exception {
        byte[] key = sampleKey(10);
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update("ltc-secrets master key id\0".getBytes(StandardCharsets.US_ASCII));
        String expected = "mk-" + HexFormat.of().formatHex(sha256.digest(key)).substring(0, 16);

        try (MasterKey k = MasterKeyLoader.load(write(encode(key), "0400"), false)) {
            assertThat(k.keyId()).matches("^mk-[0-9a-f]{16}$").isEqualTo(expected);
        }
    }

    @Test
    void toStringRevealsNoKeyMaterial() throws IOException {
        byte[] key = keyWithPlusAndSlash();
        try (MasterKey k = MasterKeyLoader.load(write(encode(key), "0400"), false)) {
            String s = k.toString();

            assertThat(s).isEqualTo("MasterKey[id=" + k.keyId() + ", redacted]");
            assertThat(s).doesNotContain(encode(key).substring(0, 8))
                    .doesNotContain(Base64.getUrlEncoder().encodeToString(key).substring(0, 8))
                    .doesNotContain(HexFormat.of().formatHex(key).substring(0, 8))
                    .doesNotContain(HexFormat.of().withUpperCase().formatHex(key).substring(0, 8));
        }
    }

    @Test
    void copyBytesReturnsAnIndependentCopy() throws IOException {
        byte[] key = sampleKey(11);
        try (MasterKey k = MasterKeyLoader.load(write(encode(key), "0400"), false)) {
            byte[] copy = k.copyBytes();
            Arrays.fill(copy, (byte) 0);

            assertThat(k.copyBytes()).isEqualTo(key);
        }
    }

    @Test
    void closeZeroesTheKeyAndForbidsFurtherUse() throws Exception {
        MasterKey k = MasterKeyLoader.load(write(encode(sampleKey(12)), "0400"), false);
        String id = k.keyId();

        k.close();

        assertThat(k.isDestroyed()).isTrue();
        assertThat(internalBytes(k)).containsOnly(0);
        assertThatThrownBy(k::copyBytes).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(id);
        assertThat(k.keyId()).isEqualTo(id);
        k.close(); // idempotent
    }

    @Test
    void strongRandomIsOneSharedDrbg() {
        assertThat(Randoms.strong()).isSameAs(Randoms.strong());
        assertThat(Randoms.strong().getAlgorithm()).isEqualTo("DRBG");
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private Path write(String content, String mode) throws IOException {
        return write("master.key", content, mode);
    }

    private Path write(String name, String content, String mode) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, perms(mode));
        return file;
    }

    private static Set<PosixFilePermission> perms(String octal) {
        int mode = Integer.parseInt(octal, 8);
        StringBuilder symbolic = new StringBuilder();
        String letters = "rwxrwxrwx";
        for (int bit = 8; bit >= 0; bit--) {
            symbolic.append((mode & (1 << bit)) != 0 ? letters.charAt(8 - bit) : '-');
        }
        return PosixFilePermissions.fromString(symbolic.toString());
    }

    private static String encode(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    private static byte[] sampleKey(int seed) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (seed * 31 + i * 7);
        }
        return key;
    }

    /** 0xFB 0xFF repeated encodes to "+/v/" runs: standard and URL-safe encodings differ. */
    private static byte[] keyWithPlusAndSlash() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i % 2 == 0 ? 0xFB : 0xFF);
        }
        String standard = encode(key);
        assertThat(standard).containsAnyOf("+", "/");
        return key;
    }

    private List<Path> leftoverTempFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(".master.key.tmp-")).toList();
        }
    }

    /** The mode as the real {@code stat} binary sees it, not through the JDK under test. */
    private static String stat(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%a", file.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).as("stat output: %s", out).isZero();
        return out;
    }

    /** Reads the private key array to prove close() overwrote it rather than just flagging it. */
    private static byte[] internalBytes(MasterKey key) throws IllegalAccessException {
        for (Field f : MasterKey.class.getDeclaredFields()) {
            if (f.getType() == byte[].class && !java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                f.setAccessible(true);
                return ((byte[]) f.get(key)).clone();
            }
        }
        throw new AssertionError("MasterKey has no byte[] field");
    }
}
