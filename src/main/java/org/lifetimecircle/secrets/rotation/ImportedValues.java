package org.lifetimecircle.secrets.rotation;

import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * Checks an imported value against its secret's policy. Errors say what is wrong (length, which
 * kind of character) but never echo the value or any part of it.
 */
final class ImportedValues {

    private ImportedValues() {
    }

    static void check(SecretPolicy secret, String value) {
        int min = Math.max(SecretGenerator.MIN_LENGTH, secret.length());
        if (value.length() < min) {
            throw ApiException.policyViolation("the value is " + value.length() + " characters; " + secret.name()
                    + " needs at least " + min);
        }
        if (value.length() > SecretGenerator.MAX_LENGTH) {
            throw ApiException.policyViolation("the value is longer than " + SecretGenerator.MAX_LENGTH + " characters");
        }
        String allowed = secret.alphabet().characters();
        for (int i = 0; i < value.length(); i++) {
            if (allowed.indexOf(value.charAt(i)) < 0) {
                throw ApiException.policyViolation("the value has a character outside the policy's alphabet ("
                        + secret.alphabet().yamlName() + ")");
            }
        }
    }
}
