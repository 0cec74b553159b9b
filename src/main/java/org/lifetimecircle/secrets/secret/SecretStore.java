package org.lifetimecircle.secrets.secret;

import jakarta.enterprise.context.ApplicationScoped;
import org.lifetimecircle.secrets.crypto.DecryptionFailedException;
import org.lifetimecircle.secrets.crypto.Envelope;
import org.lifetimecircle.secrets.crypto.InstallationKeys;
import org.lifetimecircle.secrets.crypto.MasterKeys;
import org.lifetimecircle.secrets.crypto.SecretValue;

/**
 * Seals and opens version values under the master key, bound to (environment, secret, version) so a
 * ciphertext copied to another row does not open, and fingerprints them for the API and audit.
 */
@ApplicationScoped
public class SecretStore {

    private final MasterKeys masterKeys;
    private final InstallationKeys installationKeys;

    SecretStore(MasterKeys masterKeys, InstallationKeys installationKeys) {
        this.masterKeys = masterKeys;
        this.installationKeys = installationKeys;
    }

    public byte[] seal(String environment, String secret, long version, SecretValue value) {
        return Envelope.encrypt(masterKeys.key(), value, new Envelope.Binding(environment, secret, version));
    }

    /**
     * The value of a readable version. A failure here means the row was tampered with or moved, or the
     * master key is not the one it was sealed under: never a normal condition.
     */
    public SecretValue open(SecretVersionEntity v) {
        if (v.ciphertext == null) {
            throw new IllegalStateException("version " + v.version + " of " + v.environment + "/" + v.secret
                    + " has no value (" + v.state + ")");
        }
        try {
            return Envelope.decrypt(masterKeys.key(), v.ciphertext,
                    new Envelope.Binding(v.environment, v.secret, v.version));
        } catch (DecryptionFailedException e) {
            throw new SecretUnreadableException(v.environment, v.secret, v.version);
        }
    }

    /**
     * Seals the value of an IMPORT that waits for a second person's approval: bound to that approval (the
     * secret's name with {@code #approval-<id>}), so the blob opens for that request only and never as a version.
     */
    public byte[] sealAwaitingApproval(String environment, String secret, String approvalId, SecretValue value) {
        return Envelope.encrypt(masterKeys.key(), value, Envelope.Binding.awaitingApproval(environment, secret, approvalId));
    }

    /** The value sealed by {@link #sealAwaitingApproval}; a failure means tampering or a foreign master key. */
    public SecretValue openAwaitingApproval(String environment, String secret, String approvalId, byte[] blob) {
        try {
            return Envelope.decrypt(masterKeys.key(), blob, Envelope.Binding.awaitingApproval(environment, secret, approvalId));
        } catch (DecryptionFailedException e) {
            throw new IllegalStateException("the imported value of approval " + approvalId + " does not open");
        }
    }

    /** {@code hmac-sha256:<hex>} of the value under the installation's fingerprint key. */
    public String fingerprint(SecretValue value) {
        byte[] bytes = value.utf8Copy();
        try {
            return installationKeys.fingerprint(bytes);
        } finally {
            java.util.Arrays.fill(bytes, (byte) 0);
        }
    }
}
