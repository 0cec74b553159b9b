package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * An env file is never written through a symbolic link among its directories below the file root: the
 * link would send the secrets wherever it points. The same write succeeds once the directory is real.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class EnvFileParentLinkTest {

    private static final String ENV = "prod";

    @Test
    void aWriteThroughALinkedParentDirectoryIsRefusedAndWritesNothingThere() throws Exception {
        String admin = adminToken();
        as(admin).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin", "environment", ENV,
                "permission", "env-file:write", "ttl", "PT1H", "reason", "parent link test"))
                .post("/api/v1/grants").then().statusCode(201);
        Rotations.awaitIdle(admin, ENV);
        Path dir = TestDataDir.fileRoot().resolve("etc/lifetimecircle");
        Path elsewhere = TestDataDir.fileRoot().resolve("etc/elsewhere-" + System.nanoTime());
        // Allowed: a real directory.
        as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(200);

        Files.move(dir, elsewhere);
        try {
            Files.createSymbolicLink(dir, elsewhere.getFileName());
            Files.delete(elsewhere.resolve(ENV + ".env"));
            as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(500)
                    .body("code", equalTo("env-file-unwritable"))
                    .body("detail", containsString("symbolic link"));
            assertThat(elsewhere.resolve(ENV + ".env")).as("nothing written through the link").doesNotExist();
            try (var left = Files.list(elsewhere)) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("." + ENV));
            }
        } finally {
            Files.deleteIfExists(dir);
            Files.move(elsewhere, dir);
        }
        // And allowed again once the directory is real.
        as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(200);
        assertThat(dir.resolve(ENV + ".env")).isRegularFile();
    }
}
