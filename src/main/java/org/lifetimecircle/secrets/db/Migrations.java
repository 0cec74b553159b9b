package org.lifetimecircle.secrets.db;

import io.quarkus.flyway.runtime.QuarkusFlywayResourceProvider;
import io.quarkus.flyway.runtime.QuarkusPathLocationScanner;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.Location;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.resource.LoadableResource;
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
 *
 * <p>A restart on a current schema skips Flyway's migrate: it would parse and checksum every migration file and
 * inspect the store (about a third of our start-up sequence) to find nothing to do. "Current" is decided
 * conservatively, with one plain JDBC query of Flyway's history table: every versioned migration file of the store
 * is recorded there as applied successfully, and nothing else is (no failed row, no version this jar does not
 * have, no other kind of row). Anything else (a new migration, a failed one, no history table, an unreadable one,
 * a file name Flyway would treat differently) runs Flyway's migrate as before, with its validation.
 */
@ApplicationScoped
public class Migrations {

    /** A versioned migration as Flyway names it by default: V, the version, two underscores, a description, .sql. */
    private static final Pattern VERSIONED = Pattern.compile("V([0-9][0-9._]*)__[^/]*\\.sql");

    private final Flyway configured;
    private final Store store;
    private final AgroalDataSource dataSource;

    Migrations(Flyway configured, Store store, AgroalDataSource dataSource) {
        this.configured = configured;
        this.store = store;
        this.dataSource = dataSource;
    }

    /**
     * Applies the pending migrations of the running store; the schema is current afterwards.
     *
     * @return Flyway's result, or null when the schema was already current and Flyway did not run
     */
    public MigrateResult migrate() {
        FluentConfiguration c = Flyway.configure().configuration(configured.getConfiguration())
                .locations(new Location("classpath:" + store.migrations()));
        List<Location> locations = List.of(c.getLocations());
        Collection<LoadableResource> files = new QuarkusPathLocationScanner(c, locations).scanForResources();
        if (current(files, c.getTable())) {
            return null;
        }
        c.resourceProvider(new QuarkusFlywayResourceProvider(files));
        return c.load().migrate();
    }

    /** Whether the history table records exactly these files' versions, all applied successfully. */
    private boolean current(Collection<LoadableResource> files, String table) {
        Set<MigrationVersion> available = new HashSet<>();
        for (LoadableResource file : files) {
            Matcher m = VERSIONED.matcher(file.getFilename());
            if (!m.matches()) {
                return false; // a repeatable or differently named migration: Flyway decides
            }
            available.add(MigrationVersion.fromVersion(m.group(1)));
        }
        if (available.isEmpty() || !table.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            return false;
        }
        Set<MigrationVersion> applied = new HashSet<>();
        // The history table only, in the connection's default schema (where Flyway keeps it with our settings).
        try (Connection conn = dataSource.getConnection(); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, type, success FROM " + table)) {
            while (rs.next()) {
                String version = rs.getString(1);
                if (version == null || !"SQL".equals(rs.getString(2)) || !rs.getBoolean(3)
                        || !applied.add(MigrationVersion.fromVersion(version))) {
                    return false; // a failed, repeated, baseline or other row
                }
            }
        } catch (SQLException | RuntimeException e) {
            return false; // no history table yet (a first start), or one we cannot read: Flyway's migrate reports it
        }
        return applied.equals(available);
    }
}
