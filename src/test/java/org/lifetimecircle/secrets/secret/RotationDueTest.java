package org.lifetimecircle.secrets.secret;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.policy.Alphabet;
import org.lifetimecircle.secrets.policy.OverdueAction;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/** The due state the environment view and the metrics report: boundaries included. */
class RotationDueTest {

    private static final SecretPolicy KEY = new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL,
            Duration.ofDays(90), Duration.ofDays(14), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG);
    private static final Instant CREATED = Instant.parse("2026-03-06T09:00:00Z");

    private static RotationDue at(Duration sinceCreation) {
        return RotationDue.of(KEY, CREATED, CREATED.plus(sinceCreation));
    }

    @Test
    void okUntilWarnBeforeTheDueTime() {
        RotationDue d = at(Duration.ofDays(76).minusSeconds(1));
        assertThat(d.status()).isEqualTo(RotationDue.Status.OK);
        assertThat(d.dueAt()).isEqualTo(Instant.parse("2026-06-04T09:00:00Z"));
        assertThat(d.ageSeconds()).isEqualTo(Duration.ofDays(76).minusSeconds(1).getSeconds());
    }

    @Test
    void dueSoonFromWarnBeforeUntilTheDueTime() {
        assertThat(at(Duration.ofDays(76)).status()).isEqualTo(RotationDue.Status.DUE_SOON);
        assertThat(at(Duration.ofDays(90).minusMillis(1)).status()).isEqualTo(RotationDue.Status.DUE_SOON);
    }

    @Test
    void overdueFromTheDueTimeOn() {
        assertThat(at(Duration.ofDays(90)).status()).isEqualTo(RotationDue.Status.OVERDUE);
        assertThat(at(Duration.ofDays(400)).status()).isEqualTo(RotationDue.Status.OVERDUE);
    }

    @Test
    void aClockBehindTheCreationTimeGivesAgeZeroNotANegativeAge() {
        RotationDue d = RotationDue.of(KEY, CREATED, CREATED.minusSeconds(30));
        assertThat(d.ageSeconds()).isZero();
        assertThat(d.status()).isEqualTo(RotationDue.Status.OK);
    }
}
