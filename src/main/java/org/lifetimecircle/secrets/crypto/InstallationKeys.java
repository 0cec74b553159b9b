package org.lifetimecircle.secrets.crypto;

import io.agroal.api.AgroalDataSource;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;

/**
 * The installation's audit keys: the Ed25519 key that signs checkpoints and the HMAC key behind
 * {@code hmac-sha256:} fingerprints. Created on first start, stored sealed under the master key.
 */
@ApplicationScoped
public class InstallationKeys {

    static final String SIGNING = "audit-signing";
    static final String FINGERPRINT = "fingerprint";

    private final AgroalDataSource dataSource;
    private final MasterKeys masterKeys;
    private final Clock clock;
    private volatile AuditSigner signer;
    private volatile Fingerprinter fingerprinter;

    InstallationKeys(AgroalDataSource dataSource, MasterKeys masterKeys, Clock clock) {
        this.dataSource = dataSource;
        this.masterKeys = masterKeys;
        this.clock = clock;
    }

    /** Loads both keys, creating any that is missing; returns whether a key was created. */
    public boolean loadOrCreate() {
        MasterKey kek = masterKeys.key();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            boolean created = false;
            byte[] sealedSigner = read(c, SIGNING);
            if (sealedSigner == null) {
                try (AuditSigner fresh = AuditSigner.generate()) {
                    sealedSigner = fresh.seal(kek);
                }
                insert(c, SIGNING, sealedSigner);
                created = true;
            }
            byte[] sealedFingerprint = read(c, FINGERPRINT);
            if (sealedFingerprint == null) {
                try (Fingerprinter fresh = Fingerprinter.generate()) {
                    sealedFingerprint = fresh.seal(kek);
                }
                insert(c, FINGERPRINT, sealedFingerprint);
                created = true;
            }
            c.commit();
            signer = AuditSigner.unseal(kek, sealedSigner);
            fingerprinter = Fingerprinter.unseal(kek, sealedFingerprint);
            return created;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot load the installation keys", e);
        }
    }

    /**
     * A stored installation key moved from one master key to another (master-key rotation): opened
     * under {@code from}, sealed afresh under {@code to}. The key itself does not change, so
     * checkpoints signed before the rotation verify with the same public key after it.
     *
     * @throws DecryptionFailedException if {@code sealed} does not open under {@code from}
     */
    public static byte[] reseal(String purpose, byte[] sealed, MasterKey from, MasterKey to) {
        switch (purpose) {
            case SIGNING -> {
                try (AuditSigner key = AuditSigner.unseal(from, sealed)) {
                    return key.seal(to);
                }
            }
            case FINGERPRINT -> {
                try (Fingerprinter key = Fingerprinter.unseal(from, sealed)) {
                    return key.seal(to);
                }
            }
            default -> throw new IllegalStateException("unknown installation key purpose " + purpose);
        }
    }

    /** The checkpoint signer. */
    public AuditSigner signer() {
        AuditSigner s = signer;
        if (s == null) {
            throw new IllegalStateException("installation keys are not loaded");
        }
        return s;
    }

    /** {@code hmac-sha256:<hex>} of a value, for audit details that must identify it. */
    public String fingerprint(byte[] value) {
        Fingerprinter f = fingerprinter;
        if (f == null) {
            throw new IllegalStateException("installation keys are not loaded");
        }
        return f.fingerprint(value);
    }

    @PreDestroy
    void erase() {
        if (signer != null) {
            signer.close();
        }
        if (fingerprinter != null) {
            fingerprinter.close();
        }
    }

    private static byte[] read(Connection c, String purpose) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select sealed from installation_key where purpose = ?")) {
            ps.setString(1, purpose);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    private void insert(Connection c, String purpose, byte[] sealed) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "insert into installation_key (purpose, sealed, created_at) values (?, ?, ?)")) {
            ps.setString(1, purpose);
            ps.setBytes(2, sealed);
            ps.setLong(3, clock.millis());
            ps.executeUpdate();
        }
    }
}
