package org.lifetimecircle.secrets.startup;

import java.time.Duration;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/** Checks the relations between settings that types alone cannot express. */
final class ConfigCheck {

    private ConfigCheck() {
    }

    static void validate(LtcSecretsConfig c) {
        store(c.store());
        positive("ltc-secrets.scheduler.check-every", c.scheduler().checkEvery());
        atLeastOneSecond("ltc-secrets.grants.max-ttl", c.grants().maxTtl());
        atLeastOneSecond("ltc-secrets.tokens.default-ttl", c.tokens().defaultTtl());
        atLeastOneSecond("ltc-secrets.tokens.max-ttl", c.tokens().maxTtl());
        if (c.tokens().defaultTtl().compareTo(c.tokens().maxTtl()) > 0) {
            throw new StartupRefusedException("ltc-secrets.tokens.default-ttl must not exceed ltc-secrets.tokens.max-ttl");
        }
        positive("ltc-secrets.audit.checkpoint-every", c.audit().checkpointEvery());
        // Shorter than a minute would archive what was just written: almost certainly a typo (PT1M for P1M).
        c.audit().retention().ifPresent(r -> {
            if (r.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new StartupRefusedException("ltc-secrets.audit.retention must be at least PT1M (e.g. P365D)");
            }
        });
        if (c.maxBodySize() < 1024 || c.maxBodySize() > 16 * 1024 * 1024) {
            throw new StartupRefusedException("ltc-secrets.max-body-size must be between 1024 and 16777216 bytes");
        }
    }

    /** The store's settings agree with each other: a PostgreSQL URL for PostgreSQL, none for SQLite. */
    static void store(LtcSecretsConfig.Store s) {
        if (s.kind() == LtcSecretsConfig.StoreKind.SQLITE) {
            if (s.url().isPresent() || s.username().isPresent() || s.passwordFile().isPresent()) {
                throw new StartupRefusedException("ltc-secrets.store.url, .username and .password-file are for"
                        + " ltc-secrets.store=postgresql; the SQLite store is <data-dir>/ltc-secrets.db");
            }
            return;
        }
        // The URL is never repeated in a message: it may carry a password as a parameter.
        String url = s.url().orElseThrow(() -> new StartupRefusedException("ltc-secrets.store=postgresql needs"
                + " ltc-secrets.store.url (jdbc:postgresql://host:port/database)"));
        if (!url.startsWith("jdbc:postgresql://")) {
            throw new StartupRefusedException("ltc-secrets.store.url must start with jdbc:postgresql:// when"
                    + " ltc-secrets.store=postgresql");
        }
        if (url.contains("password=")) {
            throw new StartupRefusedException("ltc-secrets.store.url must not carry a password; put it in the file"
                    + " named by ltc-secrets.store.password-file");
        }
        s.passwordFile().ifPresent(StoreCredentials::readPassword);
    }

    private static void positive(String key, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new StartupRefusedException(key + " must be a positive duration");
        }
    }

    private static void atLeastOneSecond(String key, Duration d) {
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new StartupRefusedException(key + " must be at least PT1S");
        }
    }
}
