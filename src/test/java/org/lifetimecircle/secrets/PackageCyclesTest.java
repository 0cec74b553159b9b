package org.lifetimecircle.secrets;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The base packages (access, audit, crypto, ...) form a layered graph: a package may use the ones below it, never one
 * that (directly or through others) uses it back. A cycle makes a package impossible to read or test alone, so any
 * new one fails here. Each package's {@code package-info.java} says what it owns and, on its "May use:" line, which
 * packages it may use; the second test keeps those lines true.
 */
class PackageCyclesTest {

    private static final String BASE = "org.lifetimecircle.secrets.";
    private static final Path SOURCES = Path.of("src/main/java/org/lifetimecircle/secrets");
    private static final Pattern MAY_USE = Pattern.compile("<p>May use: ([^.]*)\\.");
    private static final String NOTHING = "no other package of the service";

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("org.lifetimecircle.secrets");

    @Test
    void basePackagesAreFreeOfCycles() {
        slices().matching("org.lifetimecircle.secrets.(*)..")
                .should().beFreeOfCycles()
                .check(MAIN);
    }

    @Test
    void everyBasePackageUsesOnlyWhatItsPackageInfoSays() throws IOException {
        // package -> package it uses -> one dependency that shows it
        Map<String, Map<String, String>> uses = new TreeMap<>();
        for (JavaClass c : MAIN) {
            String from = basePackage(c);
            if (from == null) {
                continue;
            }
            Map<String, String> targets = uses.computeIfAbsent(from, k -> new TreeMap<>());
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = basePackage(d.getTargetClass().getBaseComponentType());
                if (to != null && !to.equals(from)) {
                    targets.putIfAbsent(to, d.getDescription());
                }
            }
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> e : uses.entrySet()) {
            Path info = SOURCES.resolve(e.getKey()).resolve("package-info.java");
            if (!Files.exists(info)) {
                problems.add(info + " is missing: say what the package owns and which packages it may use");
                continue;
            }
            Matcher m = MAY_USE.matcher(Files.readString(info));
            if (!m.find()) {
                problems.add(info + " has no \"<p>May use: a, b.\" (or \"" + NOTHING + ".\") line");
                continue;
            }
            Set<String> allowed = m.group(1).strip().equals(NOTHING) ? Set.of()
                    : Arrays.stream(m.group(1).split(",")).map(String::strip)
                            .collect(Collectors.toCollection(TreeSet::new));
            e.getValue().forEach((to, example) -> {
                if (!allowed.contains(to)) {
                    problems.add(e.getKey() + " uses " + to + ", which " + info + " does not list (" + example
                            + "): move the type where it belongs, or list " + to + " if the arrow is right");
                }
            });
        }
        assertThat(problems).as(String.join("\n", problems)).isEmpty();
    }

    /** {@code access} for {@code org.lifetimecircle.secrets.access.grant.X}; null outside the base packages. */
    private static String basePackage(JavaClass c) {
        String name = c.getPackageName();
        if (!name.startsWith(BASE)) {
            return null;
        }
        String rest = name.substring(BASE.length());
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }
}
