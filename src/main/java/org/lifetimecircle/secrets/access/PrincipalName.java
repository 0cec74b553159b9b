package org.lifetimecircle.secrets.access;

import java.util.regex.Pattern;
import org.lifetimecircle.secrets.web.ApiException;

/** A validated principal name: lower case, short, safe in paths, logs and audit events. */
public record PrincipalName(String value) {

    private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public PrincipalName {
        if (value == null || !VALID.matcher(value).matches()) {
            throw ApiException.invalid("principal name must match [a-z0-9][a-z0-9._-]{0,63}");
        }
    }
}
