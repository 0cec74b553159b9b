package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The copy an import keeps of the hand-made file it replaces goes only once that file can no longer be lost:
 * the import COMPLETED (the value was adopted on purpose), or the file on disk is the copy again. A failed
 * put-back, or another file someone wrote since, keeps it for the operator.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ImportBackupsTest {

    private static final byte[] HAND_MADE = "LTC_SECRET_KEY=hand-made-value-kept-by-the-import-0123\n".getBytes(StandardCharsets.UTF_8);

    @Inject
    ImportBackups backups;

    @Test
    void theCopyStaysWhileTheHandMadeFileIsNotBack() {
        backups.keep("00000000000000c1", HAND_MADE);

        assertThat(backups.forgetIfSettled("00000000000000c1", RotationStatus.ROLLED_BACK, null)).isFalse();
        assertThat(backups.forgetIfSettled("00000000000000c1", RotationStatus.FAILED,
                "LTC_SECRET_KEY=another-file\n".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(backups.find("00000000000000c1")).as("kept: the hand-made file exists nowhere else").isPresent();

        assertThat(backups.forgetIfSettled("00000000000000c1", RotationStatus.FAILED, HAND_MADE.clone())).isTrue();
        assertThat(backups.find("00000000000000c1")).isEmpty();
    }

    @Test
    void aCompletedImportAdoptedTheValueAndNeedsNoCopy() {
        backups.keep("00000000000000c2", HAND_MADE);
        assertThat(backups.forgetIfSettled("00000000000000c2", RotationStatus.COMPLETED, null)).isTrue();
        assertThat(backups.find("00000000000000c2")).isEmpty();
    }
}
