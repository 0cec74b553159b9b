package org.lifetimecircle.secrets.db;

import io.quarkus.flyway.runtime.QuarkusFlywayResourceProvider;
import io.quarkus.flyway.runtime.QuarkusPathLocationScanner;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.Location;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Migrates the running store's schema with its own migrations ({@code db/migration/sqlite} or
 * {@code db/migration/postgresql}).
 *
 * <p>Quarkus finds migration files at build time, in every location {@code quarkus.flyway.locations} names
 * (both directories), and its Flyway bean would run them all. This keeps Quarkus' configured Flyway (its
 * datasource, table, settings) and narrows it to the one location, with the same build-time file index
 * Quarkus uses (classpath scanning at run time does not see inside the packaged jar's class loader).
 */
@ApplicationScoped
public class Migrations {

    private final Flyway configured;
    private final Store store;

    Migrations(Flyway configured, Store store) {
        this.configured = configured;
        this.store = store;
    }

    /** Applies the pending migrations of the running store; the schema is current afterwards. */
    public MigrateResult migrate() {
        FluentConfiguration c = Flyway.configure().configuration(configured.getConfiguration())
                .locations(new Location("classpath:" + store.migrations()));
        List<Location> locations = List.of(c.getLocations());
        c.resourceProvider(new QuarkusFlywayResourceProvider(
                new QuarkusPathLocationScanner(c, locations).scanForResources()));
        return c.load().migrate();
    }
}
