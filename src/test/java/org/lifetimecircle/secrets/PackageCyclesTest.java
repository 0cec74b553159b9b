package org.lifetimecircle.secrets;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The base packages (access, audit, crypto, ...) form a layered graph: a package may use the ones below it, never one
 * that (directly or through others) uses it back. A cycle makes a package impossible to read or test alone, so any
 * new one fails here. See each package's {@code package-info.java} for what it may use.
 */
class PackageCyclesTest {

    @Test
    void basePackagesAreFreeOfCycles() {
        JavaClasses mainClasses = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("org.lifetimecircle.secrets");
        slices().matching("org.lifetimecircle.secrets.(*)..")
                .should().beFreeOfCycles()
                .check(mainClasses);
    }
}
