package org.lifetimecircle.secrets.web;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Creates request ids: random, so they reveal nothing about load or order. */
public final class RequestIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private RequestIds() {
    }

    /** A new 128-bit id in hex. */
    public static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
