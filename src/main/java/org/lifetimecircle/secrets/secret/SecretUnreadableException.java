package org.lifetimecircle.secrets.secret;

/** A stored version that does not decrypt: tampering, a moved row or the wrong master key. Names only. */
public class SecretUnreadableException extends RuntimeException {

    public SecretUnreadableException(String environment, String secret, long version) {
        super("version " + version + " of " + environment + "/" + secret
                + " does not decrypt under the loaded master key (tampered, moved, or another key)", null, false, false);
    }
}
