package org.lifetimecircle.secrets.web;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The web console's pages load without a token (each view then calls the API with the user's own) and
 * carry the contract's browser policy; the API itself still needs a token and is left as it was.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ConsoleHeadersTest {

    private static final Pattern INLINE_SCRIPT = Pattern.compile("<script(?![^>]*\\bsrc=)[^>]*>");

    @ParameterizedTest
    @ValueSource(strings = {"/console/", "/console/index.html", "/console/app.js", "/console/console.css",
            "/_static/echarts/dist/echarts.esm.min.js"})
    void consoleFilesNeedNoTokenAndCarryTheStrictPolicy(String path) {
        Response r = given().get(path);
        assertThat(r.statusCode()).isEqualTo(200);
        String csp = r.header("Content-Security-Policy");
        assertThat(csp).contains("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "*", "http:", "https:");
        assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.header("Referrer-Policy")).isEqualTo("no-referrer");
    }

    @Test
    void theSignInFormHasTheFixedHookAndThePageNoInlineScript() {
        String html = given().get("/console/").then().statusCode(200).contentType(containsString("text/html"))
                .extract().asString();
        assertThat(html).contains("type=\"password\"", "name=\"token\"", "type=\"submit\"");
        assertThat(INLINE_SCRIPT.matcher(html).find()).as("inline script").isFalse();
        assertThat(html).doesNotContain("http://", "https://", "style=\"");
    }

    @Test
    void consoleWithoutSlashRedirectsRelatively() {
        given().redirects().follow(false).get("/console").then().statusCode(302)
                .header("Location", equalTo("console/"));
    }

    @Test
    void theApiStillNeedsATokenAndKeepsItsOwnHeaders() {
        given().get("/api/v1/environments").then().statusCode(401)
                .contentType("application/problem+json").body("code", equalTo("unauthorized"))
                .header("Content-Security-Policy", nullValue());
        given().get("/health").then().statusCode(200).header("Content-Security-Policy", nullValue());
    }
}
