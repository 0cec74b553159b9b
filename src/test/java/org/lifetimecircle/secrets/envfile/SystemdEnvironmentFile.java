package org.lifetimecircle.secrets.envfile;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A reference reader for systemd's {@code EnvironmentFile=}, for tests: no systemd runs here, so the env file
 * is checked against these rules instead. They are the ones systemd.exec(5) documents, implemented as the
 * state machine of systemd's {@code parse_env_file_internal} (src/basic/env-file.c):
 * <ul>
 *   <li>The file is UTF-8; NUL, U+FEFF and Unicode noncharacters are not allowed. Lines end at LF or CR.
 *   <li>Lines whose first non-whitespace character is {@code #} or {@code ;} are comments; empty lines and
 *       lines without {@code =} are ignored. A comment is not continued by a trailing backslash (it was
 *       before v254, which is why our header never ends in one).
 *   <li>Whitespace (space, tab, CR) around the key and before the value is discarded.
 *   <li>Unquoted values: a backslash keeps the next character literally ({@code \\} is one backslash; a
 *       backslash-newline continues the line); quotes after the first character are kept as they are;
 *       interior whitespace is kept, trailing whitespace is discarded; {@code #} is not a comment here.
 *   <li>Single-quoted values: every character up to the next {@code '} verbatim, no escapes, may span lines.
 *   <li>Double-quoted values: verbatim except {@code \"}, {@code \\}, {@code \`}, {@code \$} (unescaped) and
 *       backslash-newline (removed); any other backslash is kept with its character.
 *   <li>Quoted and unquoted pieces directly next to each other are concatenated, as in a shell.
 *   <li>No variable or command expansion at all.
 *   <li>Names are ASCII letters, digits and underscore, not starting with a digit; systemd skips an invalid
 *       assignment with a log message, this reader throws so a test fails instead.
 * </ul>
 */
final class SystemdEnvironmentFile {

    private static final String WHITESPACE = " \t\n\r";
    private static final String NEWLINE = "\n\r";
    private static final String SHELL_NEED_ESCAPE = "\"\\`$";
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private enum State {
        PRE_KEY, KEY, PRE_VALUE, VALUE, VALUE_ESCAPE, SINGLE_QUOTE_VALUE, DOUBLE_QUOTE_VALUE,
        DOUBLE_QUOTE_VALUE_ESCAPE, COMMENT
    }

    private SystemdEnvironmentFile() {
    }

    /** The assignments in {@code file}, in file order, as systemd would pass them to the service. */
    static Map<String, String> parse(byte[] file) {
        String text = decodeStrictly(file);
        Map<String, String> result = new LinkedHashMap<>();
        StringBuilder key = new StringBuilder();
        StringBuilder value = new StringBuilder();
        int trailingWhitespaceAt = -1;
        State state = State.PRE_KEY;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (state) {
                case PRE_KEY -> {
                    if (c == '#' || c == ';') {
                        state = State.COMMENT;
                    } else if (WHITESPACE.indexOf(c) < 0) {
                        state = State.KEY;
                        key.setLength(0);
                        key.append(c);
                    }
                }
                case KEY -> {
                    if (NEWLINE.indexOf(c) >= 0) {
                        state = State.PRE_KEY; // no "=": ignored
                    } else if (c == '=') {
                        state = State.PRE_VALUE;
                        value.setLength(0);
                        trailingWhitespaceAt = -1;
                    } else {
                        key.append(c);
                    }
                }
                case PRE_VALUE -> {
                    if (NEWLINE.indexOf(c) >= 0) {
                        push(result, key, value, -1);
                        state = State.PRE_KEY;
                    } else if (c == '\'') {
                        state = State.SINGLE_QUOTE_VALUE;
                    } else if (c == '"') {
                        state = State.DOUBLE_QUOTE_VALUE;
                    } else if (c == '\\') {
                        state = State.VALUE_ESCAPE;
                    } else if (WHITESPACE.indexOf(c) < 0) {
                        state = State.VALUE;
                        value.append(c);
                    }
                }
                case VALUE -> {
                    if (NEWLINE.indexOf(c) >= 0) {
                        push(result, key, value, trailingWhitespaceAt);
                        state = State.PRE_KEY;
                    } else if (c == '\\') {
                        state = State.VALUE_ESCAPE;
                        trailingWhitespaceAt = -1;
                    } else {
                        if (WHITESPACE.indexOf(c) < 0) {
                            trailingWhitespaceAt = -1;
                        } else if (trailingWhitespaceAt < 0) {
                            trailingWhitespaceAt = value.length();
                        }
                        value.append(c);
                    }
                }
                case VALUE_ESCAPE -> {
                    state = State.VALUE;
                    if (NEWLINE.indexOf(c) < 0) {
                        value.append(c);
                    }
                }
                case SINGLE_QUOTE_VALUE -> {
                    if (c == '\'') {
                        state = State.PRE_VALUE;
                    } else {
                        value.append(c);
                    }
                }
                case DOUBLE_QUOTE_VALUE -> {
                    if (c == '"') {
                        state = State.PRE_VALUE;
                    } else if (c == '\\') {
                        state = State.DOUBLE_QUOTE_VALUE_ESCAPE;
                    } else {
                        value.append(c);
                    }
                }
                case DOUBLE_QUOTE_VALUE_ESCAPE -> {
                    state = State.DOUBLE_QUOTE_VALUE;
                    if (SHELL_NEED_ESCAPE.indexOf(c) >= 0) {
                        value.append(c);
                    } else if (c != '\n') {
                        value.append('\\').append(c);
                    }
                }
                case COMMENT -> {
                    if (NEWLINE.indexOf(c) >= 0) {
                        state = State.PRE_KEY;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
        if (state != State.PRE_KEY && state != State.KEY && state != State.COMMENT) {
            push(result, key, value, state == State.VALUE ? trailingWhitespaceAt : -1);
        }
        return result;
    }

    private static void push(Map<String, String> result, StringBuilder key, StringBuilder value, int cutAt) {
        int end = key.length();
        while (end > 0 && WHITESPACE.indexOf(key.charAt(end - 1)) >= 0) {
            end--;
        }
        String name = key.substring(0, end);
        String text = cutAt >= 0 ? value.substring(0, cutAt) : value.toString();
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("systemd would skip an assignment with the invalid name " + name);
        }
        result.put(name, text);
    }

    private static String decodeStrictly(byte[] file) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(file)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid UTF-8", e);
        }
        for (int i = 0; i < text.length(); i = text.offsetByCodePoints(i, 1)) {
            int cp = text.codePointAt(i);
            if (cp == 0 || cp == 0xFEFF || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
                throw new IllegalArgumentException("systemd refuses U+" + Integer.toHexString(cp).toUpperCase());
            }
        }
        return text;
    }
}
