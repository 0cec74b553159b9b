package org.lifetimecircle.secrets.policy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/** Reads and validates the policy files; the only way policies enter the service. */
public final class PolicyLoader {

    /** A policy is a few dozen lines; anything this large is a mistake, not a policy. */
    static final int MAX_FILE_BYTES = 1 << 20;

    private static final String DIRECTORY = "(directory)";
    private static final String FILE_NAME = "(file name)";
    private static final String EXTENSION = ".yaml";

    private PolicyLoader() {
    }

    /** Loads every policies/environments/*.yaml under policiesDir, sorted by environment. */
    public static List<EnvironmentPolicy> loadAll(Path policiesDir) throws PolicyException {
        Objects.requireNonNull(policiesDir, "policiesDir");
        requireDirectory(policiesDir,
                "set ltc-secrets.policies-dir (LTC_SECRETS_POLICIES_DIR) to the directory holding environments/");
        Path environments = policiesDir.resolve("environments");
        requireDirectory(environments, "create it with one <environment>.yaml per environment");

        List<Path> files;
        try (Stream<Path> listing = Files.list(environments)) {
            files = listing.sorted().toList();
        } catch (IOException e) {
            throw new PolicyException(environments.toString(), DIRECTORY,
                    "cannot be listed: " + e.getClass().getSimpleName());
        }
        List<EnvironmentPolicy> policies = new ArrayList<>();
        Map<String, Path> envFiles = new HashMap<>();
        for (Path file : files) {
            if (!isPolicyFile(file)) {
                continue;
            }
            EnvironmentPolicy policy = parse(file, read(file));
            Path other = envFiles.putIfAbsent(policy.envFile().path(), file);
            if (other != null) {
                // Two environments writing one file would overwrite each other's secrets.
                throw new PolicyException(file.toString(), "envFile.path", "same path as in " + other);
            }
            policies.add(policy);
        }
        if (policies.isEmpty()) {
            throw new PolicyException(environments.toString(), DIRECTORY,
                    "holds no policy; add one <environment>.yaml per environment");
        }
        policies.sort(Comparator.comparing(EnvironmentPolicy::environment));
        return List.copyOf(policies);
    }

    /** Parses one policy; fileName is used for messages and the environment==file-name rule. */
    public static EnvironmentPolicy parse(Path file, String yaml) throws PolicyException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(yaml, "yaml");
        String shown = file.toString();
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        checkExtension(shown, name);
        if (yaml.length() > MAX_FILE_BYTES) {
            throw new PolicyException(shown, "(file)", "larger than " + MAX_FILE_BYTES + " bytes");
        }
        String expected = name.substring(0, name.length() - EXTENSION.length());
        return PolicyReader.read(file, shown, expected, YamlTree.read(shown, yaml));
    }

    /**
     * Decides which directory entries are policies. Hidden files (editor swap and lock files) and files of
     * other kinds (a README) are skipped; a near miss such as prod.yml is an error, because skipping it would
     * silently drop an environment.
     */
    private static boolean isPolicyFile(Path file) {
        String name = file.getFileName().toString();
        if (name.startsWith(".")) {
            return false;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (!lower.endsWith(".yml") && !lower.endsWith(EXTENSION)) {
            return false;
        }
        checkExtension(file.toString(), name);
        if (!Files.isRegularFile(file)) {
            throw new PolicyException(file.toString(), "(file)", "is not a regular file");
        }
        return true;
    }

    private static void checkExtension(String shown, String name) {
        if (name.endsWith(EXTENSION) && name.length() > EXTENSION.length()) {
            return;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".yml") || lower.endsWith(EXTENSION)) {
            throw new PolicyException(shown, FILE_NAME, "rename to .yaml (lower case)");
        }
        throw new PolicyException(shown, FILE_NAME, "policy files are named <environment>.yaml");
    }

    private static void requireDirectory(Path dir, String fix) {
        if (!Files.exists(dir)) {
            throw new PolicyException(dir.toString(), DIRECTORY, "does not exist; " + fix);
        }
        if (!Files.isDirectory(dir)) {
            throw new PolicyException(dir.toString(), DIRECTORY, "is not a directory; " + fix);
        }
    }

    private static String read(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new PolicyException(file.toString(), "(file)", "larger than " + MAX_FILE_BYTES + " bytes");
            }
            byte[] bytes = Files.readAllBytes(file);
            // Strict decoding: a replacement character would silently change a static value.
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new PolicyException(file.toString(), "(file)", "is not valid UTF-8");
        } catch (IOException e) {
            throw new PolicyException(file.toString(), "(file)", "cannot be read: " + e.getClass().getSimpleName());
        }
    }
}
