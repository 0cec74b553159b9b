package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** The files a first start creates, with their real modes as {@code stat} reports them. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class BootstrapFilesTest {

    @Test
    void firstStartCreatesPrivateFilesAndAWorkingAdminToken() throws Exception {
        Path data = TestDataDir.dataDir();
        assertThat(FileModes.stat(data)).isEqualTo("700");
        assertThat(FileModes.stat(data.resolve("master.key"))).isEqualTo("400");
        assertThat(FileModes.stat(data.resolve("bootstrap-admin.token"))).isEqualTo("600");
        assertThat(adminToken()).matches("ltcs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");
        as(adminToken()).get("/api/v1/principals/" + BootstrapAdmin.NAME).then()
                .statusCode(200).body("role", equalTo("admin"));
        as(adminToken()).get("/api/v1/principals/" + BootstrapAdmin.NAME + "/tokens").then()
                .statusCode(200).body("[0].expiresAt", org.hamcrest.Matchers.notNullValue());
        try (var files = java.nio.file.Files.list(data)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }
}
