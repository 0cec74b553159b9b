package org.lifetimecircle.secrets.access;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.auth.Unauthenticated;
import org.lifetimecircle.secrets.health.HealthResource;

/**
 * {@link AuthFilter} lets requests to an {@link Unauthenticated} resource through without a token. The contract
 * has exactly one such answer, {@code GET /health}; any other class that carried the annotation would open its
 * endpoints to anyone, so it fails here.
 */
class OpenResourcesTest {

    @Test
    void onlyTheHealthAnswerIsOpenToAnyone() {
        classes().that().areAnnotatedWith(Unauthenticated.class)
                .should().haveFullyQualifiedName(HealthResource.class.getName())
                .check(new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                        .importPackages("org.lifetimecircle.secrets"));
    }
}
