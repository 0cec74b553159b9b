package org.lifetimecircle.secrets.policy;

/** The characters a generated secret is drawn from. */
public enum Alphabet {
    /** RFC 4648 base64url: safe unquoted in systemd, bash and dotenv files. */
    BASE64URL("base64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    HEX("hex", "0123456789abcdef"),
    ALPHANUMERIC("alphanumeric", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    private final String yamlName;
    private final String characters;

    Alphabet(String yamlName, String characters) {
        this.yamlName = yamlName;
        this.characters = characters;
    }

    /** The name used in policy files, e.g. {@code base64url}. */
    public String yamlName() {
        return yamlName;
    }

    /** Every character a secret may contain, each once. */
    public String characters() {
        return characters;
    }
}
