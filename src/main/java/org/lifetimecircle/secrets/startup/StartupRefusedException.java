package org.lifetimecircle.secrets.startup;

/** Stops the start; the message says what is wrong and how to fix it, and holds no secret. */
public class StartupRefusedException extends RuntimeException {

    public StartupRefusedException(String message) {
        super(message, null, false, false);
    }
}
