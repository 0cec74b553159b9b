package org.lifetimecircle.secrets.secret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lifetimecircle.secrets.testing.Api.adminToken;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.envfile.EnvFileRenderer;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Values decrypted for an env file are never Strings (immutable, they stay in the heap until collected):
 * they are erasable characters, and rendering the file erases them once they are in its bytes.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class CurrentValuesErasureTest {

    @Inject
    CurrentValues currentValues;

    @Inject
    EnvironmentRegistry environments;

    @Test
    void valuesAreErasableCharactersThatRenderingErases() {
        EnvironmentPolicy policy = environments.require("staging"); // exports PREVIOUS too, once there is one
        Rotations.awaitIdle(adminToken(), "staging");
        Map<String, SecretValues> values = currentValues.values(policy,
                currentValues.readableSlots(policy.environment())).orElseThrow();
        List<CharSequence> all = new ArrayList<>();
        values.values().forEach(v -> {
            all.add(v.current());
            v.previous().ifPresent(all::add);
        });
        assertThat(all).isNotEmpty().allSatisfy(v -> assertThat(v).isInstanceOf(ErasableChars.class));
        assertThat(all.get(0).toString()).isEqualTo("<redacted>");
        char first = all.get(0).charAt(0);

        byte[] file = EnvFileRenderer.render(policy, values);

        assertThat(new String(file, StandardCharsets.UTF_8)).contains("LTC_SECRET_KEY=" + first);
        assertThat(all).allSatisfy(v -> assertThat(((ErasableChars) v).isErased()).isTrue());
        assertThatThrownBy(() -> all.get(0).charAt(0)).isInstanceOf(IllegalStateException.class);
    }
}
