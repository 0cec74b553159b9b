package org.lifetimecircle.secrets.envfile;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** What this service last wrote to an environment's env file: for the API, drift checks and recovery. */
@Entity
@Table(name = "env_file_state")
public class EnvFileStateEntity extends PanacheEntityBase {

    @Id
    public String environment;

    @Column(nullable = false)
    public String path;

    @Column(nullable = false)
    public String mode;

    /**
     * {@code hmac-sha256:} fingerprint of the content written (the installation's fingerprint key); a row
     * from before V13 holds the plain SHA-256 until the file is next written ({@link #keyedFingerprint}).
     */
    @Column(nullable = false)
    public String fingerprint;

    @Column(nullable = false)
    public long bytes;

    /** {@code NAME:version} of each secret in the file, comma-separated. */
    @Column(name = "secret_versions", nullable = false)
    public String secretVersions;

    @Column(name = "written_at", nullable = false)
    public Instant writtenAt;

    /** How the file on disk differs from this record, while it does (null otherwise). */
    @Column(name = "drift")
    public String drift;

    /** What was on disk when the drift was recorded, to tell a new difference from a known one. */
    @Column(name = "drift_observed")
    public String driftObserved;

    @Column(name = "drift_since")
    public Instant driftSince;

    /** The fingerprint, or null while it is still the plain SHA-256 of an older release: never shown. */
    public String keyedFingerprint() {
        return fingerprint != null && fingerprint.startsWith(OnDisk.KEYED) ? fingerprint : null;
    }
}
