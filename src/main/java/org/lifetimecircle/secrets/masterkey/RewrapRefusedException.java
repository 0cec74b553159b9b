package org.lifetimecircle.secrets.masterkey;

/**
 * The master-key re-wrap cannot go ahead (or did not commit), so the start must stop; the message says what is
 * wrong and how to fix it, and holds no key material. The start sequence reports it as its refusal.
 */
public class RewrapRefusedException extends RuntimeException {

    public RewrapRefusedException(String message) {
        super(message, null, false, false);
    }
}
