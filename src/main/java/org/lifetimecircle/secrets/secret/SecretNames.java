package org.lifetimecircle.secrets.secret;

import java.util.regex.Pattern;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.web.ApiException;

/** Resolves a {@code {name}} path parameter to the policy's secret: 400 if malformed, 404 if the policy has none. */
public final class SecretNames {

    private static final Pattern NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,127}");

    private SecretNames() {
    }

    public static SecretPolicy require(EnvironmentPolicy policy, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ApiException.invalid("secret name must match [A-Z_][A-Z0-9_]*");
        }
        SecretPolicy s = policy.secrets().get(name);
        if (s == null) {
            throw ApiException.notFound("environment '" + policy.environment() + "' has no secret '" + name + "'");
        }
        return s;
    }
}
