package org.lifetimecircle.secrets.testing;

import java.util.regex.Pattern;

/** What a Java class name looks like in text a caller sees: the contract says it never does. */
public final class ClassNames {

    /** A qualified name ({@code java.io.IOException}), a {@code java.} prefix, or a bare {@code …Exception}/{@code …Error}. */
    public static final Pattern PATTERN = Pattern.compile(
            "\\b[a-z]+(\\.[a-z]+)+\\.[A-Z]\\w+\\b|\\bjava\\.|\\b[A-Z]\\w*(Exception|Error)\\b");

    private ClassNames() {
    }
}
