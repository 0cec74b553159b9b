package org.lifetimecircle.secrets.startup;

import io.quarkus.credentials.CredentialsProvider;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/**
 * The datasource's user name and password ({@code quarkus.datasource.credentials-provider=ltc-secrets-store}):
 * {@code ltc-secrets.store.username} and the first line of {@code ltc-secrets.store.password-file}, read when a
 * connection is opened, so a password rotated in the file is used by the next connection without a restart.
 *
 * <p>The file gets the master key's checks: a regular file (no symlink), owned by the service user, no
 * permission for group or others, at most 1 KiB. A refusal names the file and the fix, never its content.
 */
@ApplicationScoped
@Named("ltc-secrets-store")
public class StoreCredentials implements CredentialsProvider {

    private static final long MAX_BYTES = 1024;
    private static final long PROCESS_UID = new com.sun.security.auth.module.UnixSystem().getUid();
    private static final Set<PosixFilePermission> OWNER_ONLY = Set.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private final LtcSecretsConfig config;

    StoreCredentials(LtcSecretsConfig config) {
        this.config = config;
    }

    @Override
    public Map<String, String> getCredentials(String credentialsProviderName) {
        Map<String, String> out = new HashMap<>();
        config.store().username().ifPresent(u -> out.put(USER_PROPERTY_NAME, u));
        config.store().passwordFile().ifPresent(f -> out.put(PASSWORD_PROPERTY_NAME, readPassword(f)));
        return out;
    }

    /** The password in {@code file}, after the mode checks; a refusal says what to fix. */
    static String readPassword(Path file) {
        String key = "ltc-secrets.store.password-file " + file;
        try {
            PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                throw new StartupRefusedException(key + " must be a regular file (not a link or directory)");
            }
            Object uid = Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (uid instanceof Integer u && u.longValue() != PROCESS_UID) {
                throw new StartupRefusedException(key + " must be owned by the service user (uid " + PROCESS_UID
                        + "); run: chown $(id -un) " + file);
            }
            if (!OWNER_ONLY.containsAll(a.permissions())) {
                throw new StartupRefusedException(key + " must not be readable by group or others; run: chmod 0400 "
                        + file);
            }
            if (a.size() > MAX_BYTES) {
                throw new StartupRefusedException(key + " is larger than " + MAX_BYTES + " bytes; it holds one line");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int eol = text.indexOf('\n');
            String password = (eol < 0 ? text : text.substring(0, eol)).strip();
            if (password.isEmpty()) {
                throw new StartupRefusedException(key + " is empty; put the PostgreSQL password on its first line");
            }
            return password;
        } catch (IOException e) {
            throw new StartupRefusedException("cannot read " + key + ": " + e.getClass().getSimpleName());
        }
    }
}
