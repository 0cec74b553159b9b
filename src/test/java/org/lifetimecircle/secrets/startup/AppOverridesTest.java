package org.lifetimecircle.secrets.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.runtime.LaunchMode;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.policy.AppOverride;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.PolicyException;
import org.lifetimecircle.secrets.policy.PolicyLoader;

/** The laptop's app override: applied in dev mode and tests only, refused under prod, validated like a policy. */
class AppOverridesTest {

    private static final Map<String, AppOverride> DEMO = Map.of("prod", new AppOverride(
            Optional.of(List.of("demo-app/restart.sh", "data/root/etc/lifetimecircle/prod.env", "8400")),
            Optional.of(URI.create("http://127.0.0.1:8400/health"))));

    @Test
    void devModeAndTestsApplyIt() {
        assertThat(AppOverrides.effective(DEMO, LaunchMode.DEVELOPMENT, List.of("dev"))).isEqualTo(DEMO);
        assertThat(AppOverrides.effective(DEMO, LaunchMode.TEST, List.of("test"))).isEqualTo(DEMO);
    }

    @Test
    void thePackagedJarIgnoresItInTheDevProfile() {
        assertThat(AppOverrides.effective(DEMO, LaunchMode.NORMAL, List.of("dev"))).isEmpty();
    }

    @Test
    void theProdProfileRefusesToStartWithIt() {
        assertThatThrownBy(() -> AppOverrides.effective(DEMO, LaunchMode.NORMAL, List.of("prod")))
                .isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("ltc-secrets.app-override.").hasMessageContaining("prod profile");
        assertThatThrownBy(() -> AppOverrides.effective(DEMO, LaunchMode.DEVELOPMENT, List.of("prod")))
                .isInstanceOf(StartupRefusedException.class);
        assertThat(AppOverrides.effective(Map.of(), LaunchMode.NORMAL, List.of("prod"))).isEmpty();
    }

    @Test
    void itReplacesOnlyTheRestartCommandAndHealthUrlOfItsEnvironment() {
        List<EnvironmentPolicy> shipped = PolicyLoader.loadAll(Path.of("policies"));
        List<EnvironmentPolicy> overridden = AppOverride.apply(shipped, DEMO);
        EnvironmentPolicy prod = overridden.stream().filter(p -> p.environment().equals("prod")).findFirst().orElseThrow();
        EnvironmentPolicy shippedProd = shipped.stream().filter(p -> p.environment().equals("prod")).findFirst().orElseThrow();
        assertThat(prod.app().orElseThrow().restartCommand()).containsExactly("demo-app/restart.sh",
                "data/root/etc/lifetimecircle/prod.env", "8400");
        assertThat(prod.app().orElseThrow().healthUrl()).isEqualTo(URI.create("http://127.0.0.1:8400/health"));
        assertThat(prod.app().orElseThrow().restartTimeout()).isEqualTo(shippedProd.app().orElseThrow().restartTimeout());
        assertThat(prod.envFile()).isEqualTo(shippedProd.envFile());
        assertThat(overridden.stream().filter(p -> p.environment().equals("staging")).findFirst().orElseThrow())
                .isEqualTo(shipped.stream().filter(p -> p.environment().equals("staging")).findFirst().orElseThrow());
    }

    @Test
    void anOverrideIsValidatedLikeThePolicyAndNamesItsKey() {
        List<EnvironmentPolicy> shipped = PolicyLoader.loadAll(Path.of("policies"));
        assertThatThrownBy(() -> AppOverride.apply(shipped, Map.of("prod", new AppOverride(Optional.empty(),
                Optional.of(URI.create("ftp://127.0.0.1/health"))))))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("ltc-secrets.app-override.prod: health-url: must be an absolute http");
        assertThatThrownBy(() -> AppOverride.apply(shipped, Map.of("prod", new AppOverride(
                Optional.of(List.of("demo-app/restart.sh", "bad\nargument")), Optional.empty()))))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("ltc-secrets.app-override.prod: restart-command[1]: contains a control character");
        assertThatThrownBy(() -> AppOverride.apply(shipped, Map.of("qa", DEMO.get("prod"))))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("ltc-secrets.app-override.qa").hasMessageContaining("prod, staging");
    }
}
