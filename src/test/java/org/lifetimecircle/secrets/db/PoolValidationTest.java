package org.lifetimecircle.secrets.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * The pool checks a connection when it is borrowed on PostgreSQL only (application.properties: a server can end
 * our sessions; an SQLite connection cannot die that way, and its check is a statement per borrow). CI runs the
 * suite on both stores, so this holds both ways.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class PoolValidationTest {

    @Inject
    AgroalDataSource dataSource;

    @Test
    void connectionsAreCheckedOnBorrowOnPostgresqlOnly() {
        assertThat(dataSource.getConfiguration().connectionPoolConfiguration().validateOnBorrow())
                .as("validate-on-borrow on the %s store", TestPostgres.selected() ? "postgresql" : "sqlite")
                .isEqualTo(TestPostgres.selected());
    }
}
