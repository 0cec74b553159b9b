package org.lifetimecircle.secrets.preflight;

import java.util.List;

/** The preflight's response: one check per go-live condition, and whether nothing FAILed. */
final class PreflightViews {

    private PreflightViews() {
    }

    enum Status { PASS, WARN, FAIL }

    /** One check; {@code detail} says what was found and, when not PASS, what to do. */
    record Check(String name, Status status, String detail) {
        static Check pass(String name, String detail) {
            return new Check(name, Status.PASS, detail);
        }

        static Check warn(String name, String detail) {
            return new Check(name, Status.WARN, detail);
        }

        static Check fail(String name, String detail) {
            return new Check(name, Status.FAIL, detail);
        }
    }

    /** {@code GET /environments/{env}/preflight}. */
    record Report(String environment, boolean go, List<Check> checks) {
        static Report of(String environment, List<Check> checks) {
            return new Report(environment, checks.stream().noneMatch(c -> c.status() == Status.FAIL), List.copyOf(checks));
        }
    }
}
