package org.lifetimecircle.secrets.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Reasons end up in exports, CSV cells and terminals, where an invisible or bidirectional format
 * character (Unicode category Cf) can make a reason read differently from what it says.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ReasonFormatCharactersTest {

    @ParameterizedTest
    @ValueSource(strings = {"\u202E", "\u200B", "\u2066", "\u2069", "\u200E", "\u061C", "\uFEFF", "\u00AD"})
    void formatCharactersAreRefusedLikeControlCharacters(String c) {
        assertThatThrownBy(() -> new Reason("offboarding" + c + "ticket 42"))
                .isInstanceOf(ApiException.class).hasMessageContaining("control");
        String victim = Api.uniqueName("cf");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", victim, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        as(adminToken()).queryParam("reason", "left" + c + "team").delete("/api/v1/principals/" + victim).then()
                .statusCode(400).contentType("application/problem+json").body("code", equalTo("invalid-request"));
        as(adminToken()).get("/api/v1/principals/" + victim).then().statusCode(200).body("enabled", equalTo(true));
    }

    @Test
    void ordinaryTextInAnyScriptIsStillAReason() {
        assertThat(new Reason("Schlüssel erneuert – 鍵 ротация 🔑").value()).isEqualTo("Schlüssel erneuert – 鍵 ротация 🔑");
    }
}
