package org.lifetimecircle.secrets.auth;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/** The four fixed roles; each principal has exactly one. */
public enum Role {
    ADMIN("admin"),
    SECURITY_ENGINEER("security-engineer"),
    DEPLOYER("deployer"),
    AUDITOR("auditor");

    private final String id;

    Role(String id) {
        this.id = id;
    }

    /** The name used on the wire and in the database. */
    @JsonValue
    public String id() {
        return id;
    }

    /** Looks a role up by its wire name; anything else is absent (Jackson turns that into a 400). */
    public static Optional<Role> fromId(String id) {
        return Arrays.stream(values()).filter(r -> r.id.equals(id)).findFirst();
    }

    @JsonCreator
    static Role json(String id) {
        return fromId(id).orElseThrow(() -> new IllegalArgumentException("unknown role"));
    }
}
