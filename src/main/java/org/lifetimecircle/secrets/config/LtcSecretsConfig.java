package org.lifetimecircle.secrets.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every {@code ltc-secrets.*} setting, validated when the application starts. */
@ConfigMapping(prefix = "ltc-secrets")
public interface LtcSecretsConfig {

    /** {@code ltc-secrets.data-dir}: SQLite database, master key (outside prod), bootstrap token. */
    Path dataDir();

    /** {@code ltc-secrets.policies-dir}: holds {@code environments/<env>.yaml}. */
    @WithDefault("./policies")
    Path policiesDir();

    /** {@code ltc-secrets.master-key-file}: defaults to {@code <data-dir>/master.key}. */
    Optional<Path> masterKeyFile();

    /** {@code ltc-secrets.previous-master-key-file}: the old key during a master-key rotation. */
    Optional<Path> previousMasterKeyFile();

    /**
     * {@code ltc-secrets.create-master-key}: create a missing master key on start. Off in the prod
     * profile, where the key must come from systemd's credentials.
     */
    @WithDefault("true")
    boolean createMasterKey();

    /** {@code ltc-secrets.file-root}: every absolute path in a policy is resolved under it. */
    @WithDefault("/")
    Path fileRoot();

    /** {@code ltc-secrets.max-body-size}: request bodies above this many bytes get 413. */
    @WithDefault("65536")
    int maxBodySize();

    /**
     * {@code ltc-secrets.store} ({@code sqlite}, the default, or {@code postgresql}) and its connection
     * settings {@code ltc-secrets.store.url}, {@code .username}, {@code .password-file}.
     */
    Store store();

    /** {@code ltc-secrets.ha.*}: active/standby on a shared PostgreSQL store. */
    Ha ha();

    Scheduler scheduler();

    Grants grants();

    Tokens tokens();

    Alerts alerts();

    Audit audit();

    /**
     * {@code ltc-secrets.app-override.<env>.restart-command} and {@code .health-url}: replace a policy's app
     * restart command and health URL on a laptop, where the policies' systemd units do not exist (the dev
     * profile points them at {@code demo-app/}). Honoured only by {@code ./mvnw quarkus:dev} and tests: the
     * packaged jar ignores it, and the prod profile refuses to start with it set.
     */
    @WithName("app-override")
    Map<String, AppOverride> appOverride();

    /** The master key file actually used. */
    default Path effectiveMasterKeyFile() {
        return masterKeyFile().orElse(dataDir().resolve("master.key"));
    }

    /** One environment's app override. */
    interface AppOverride {
        /** The restart command, as a comma-separated argument vector. */
        @WithName("restart-command")
        Optional<List<String>> restartCommand();

        /** The health URL polled after the restart. */
        @WithName("health-url")
        Optional<URI> healthUrl();
    }

    /** Scheduler settings. */
    interface Store {

        /** {@code ltc-secrets.store} itself: which database holds the service's state. */
        @WithParentName
        @WithDefault("sqlite")
        StoreKind kind();

        /**
         * {@code ltc-secrets.store.url}: {@code jdbc:postgresql://host:port/db} for PostgreSQL. For SQLite it
         * is left unset: the database is {@code <data-dir>/ltc-secrets.db}.
         */
        Optional<String> url();

        /** {@code ltc-secrets.store.username}: the PostgreSQL role. */
        Optional<String> username();

        /**
         * {@code ltc-secrets.store.password-file}: a file holding the PostgreSQL password (its first line), with
         * the master key file's mode checks: owned by this user, no access for group or others.
         */
        @WithName("password-file")
        Optional<Path> passwordFile();
    }

    /** The two stores. */
    enum StoreKind {
        SQLITE, POSTGRESQL
    }

    interface Ha {

        /**
         * {@code ltc-secrets.ha.advertise-url}: how clients reach this instance when it is active; a standby
         * names the active's in its 503 answers. Defaults to {@code http://<quarkus.http.host>:<port>}.
         */
        @WithName("advertise-url")
        Optional<URI> advertiseUrl();
    }

    interface Scheduler {
        /** {@code ltc-secrets.scheduler.check-every}: how often ages, grants and env files are checked. */
        @WithDefault("60s")
        Duration checkEvery();
    }

    /** Grant settings. */
    interface Grants {
        /** {@code ltc-secrets.grants.max-ttl}: the longest lifetime a grant may have. */
        @WithDefault("P30D")
        @WithName("max-ttl")
        Duration maxTtl();
    }

    /** API token settings. */
    interface Tokens {
        /** {@code ltc-secrets.tokens.default-ttl}: lifetime of a token created without {@code ttl}. */
        @WithDefault("P90D")
        @WithName("default-ttl")
        Duration defaultTtl();

        /** {@code ltc-secrets.tokens.max-ttl}: the longest lifetime a token may have. */
        @WithDefault("P365D")
        @WithName("max-ttl")
        Duration maxTtl();

        /**
         * {@code ltc-secrets.tokens.free-failures-per-second}: failed authentications a source address may have in a
         * second before its requests without a recently good token wait a second first (the tarpit that keeps a
         * flood of bad tokens from taking a legitimate request's CPU). 0 turns the tarpit off.
         */
        @WithDefault("20")
        @WithName("free-failures-per-second")
        int freeFailuresPerSecond();
    }

    /** Alert settings. */
    interface Alerts {
        /**
         * {@code ltc-secrets.alerts.webhook-url}: where alerts are POSTed as JSON (retried, with a
         * timeout; a failed delivery is logged and never blocks a rotation). Unset: log only.
         */
        @WithName("webhook-url")
        Optional<java.net.URI> webhookUrl();
    }

    /** Audit trail settings. */
    interface Audit {
        /** {@code ltc-secrets.audit.checkpoint-every}: how often a signed checkpoint of the head is stored. */
        @WithDefault("PT1H")
        @WithName("checkpoint-every")
        Duration checkpointEvery();

        /**
         * {@code ltc-secrets.audit.retention}: events older than this move to a signed archive file
         * under {@code <data-dir>/audit-archive/} on every scheduler run. Unset: nothing is ever
         * archived or deleted by the service on its own.
         */
        Optional<Duration> retention();

        /**
         * {@code ltc-secrets.audit.export-write-timeout}: how long one write of an audit export may
         * wait for a client that does not read before its connection is closed and its snapshot released.
         */
        @WithDefault("PT60S")
        @WithName("export-write-timeout")
        Duration exportWriteTimeout();
    }
}
