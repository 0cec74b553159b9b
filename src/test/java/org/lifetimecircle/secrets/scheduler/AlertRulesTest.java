package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The shipped Prometheus rules (and the documentation's copies of them) name only metrics the running
 * service exports, so an alert cannot silently never fire because a metric was renamed.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AlertRulesTest {

    private static final Pattern METRIC = Pattern.compile("\\bltc_[a-z_]+\\b");

    @Test
    void everyMetricInTheShippedRulesIsExported() throws Exception {
        JsonNode rules = new ObjectMapper(new YAMLFactory())
                .readTree(Path.of("k8s-free-deploy/prometheus/ltc-secrets.rules.yml").toFile());
        Set<String> named = new TreeSet<>();
        for (JsonNode group : rules.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                assertThat(rule.get("alert").asText()).isNotBlank();
                Matcher m = METRIC.matcher(rule.get("expr").asText());
                while (m.find()) {
                    named.add(m.group());
                }
            }
        }
        for (Path doc : List.of(Path.of("README.md"), Path.of("docs/operations.md"))) {
            Matcher m = METRIC.matcher(java.nio.file.Files.readString(doc));
            while (m.find()) {
                named.add(m.group());
            }
        }
        assertThat(named).contains("ltc_secret_overdue", "ltc_rotations_total", "ltc_envfile_drift");

        String exported = RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        Set<String> families = new TreeSet<>();
        exported.lines().filter(l -> l.startsWith("ltc_")).forEach(l -> families.add(l.split("[{ ]", 2)[0]));
        assertThat(families).containsAll(named);
    }
}
