package org.lifetimecircle.secrets.policy;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** How one secret is generated, how often it rotates and how long its previous value stays usable. */
public record SecretPolicy(String name, int length, Alphabet alphabet, Duration rotateEvery, Duration warnBefore,
                           Duration previousGrace, Optional<String> exportPreviousAs, OverdueAction whenOverdue) {

    public SecretPolicy {
        Rules.check("secrets", Rules.variableNameProblem(name));
        String at = "secrets." + name + ".";
        Rules.check(at + "length", Rules.secretLengthProblem(length));
        Objects.requireNonNull(alphabet, "alphabet");
        Rules.check(at + "rotateEvery", Rules.positiveProblem(rotateEvery));
        Rules.check(at + "warnBefore", Rules.positiveProblem(warnBefore));
        Rules.check(at + "warnBefore",
                warnBefore.compareTo(rotateEvery) < 0 ? null : "must be shorter than rotateEvery");
        Rules.check(at + "previousGrace", Rules.positiveProblem(previousGrace));
        Objects.requireNonNull(exportPreviousAs, "exportPreviousAs");
        if (exportPreviousAs.isPresent()) {
            Rules.check(at + "exportPreviousAs", Rules.variableNameProblem(exportPreviousAs.get()));
            Rules.check(at + "exportPreviousAs",
                    exportPreviousAs.get().equals(name) ? Rules.OWN_NAME_EXPORT : null);
        }
        Objects.requireNonNull(whenOverdue, "whenOverdue");
    }
}
