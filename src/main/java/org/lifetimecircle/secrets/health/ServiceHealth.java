package org.lifetimecircle.secrets.health;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.lifetimecircle.secrets.crypto.MasterKeys;
import org.lifetimecircle.secrets.environment.EnvironmentRegistry;
import org.lifetimecircle.secrets.startup.StartupSequence;

/**
 * Whether the service can do its job: started, database answering, master key loaded, policies
 * loaded. Feeds both {@code /q/health/ready} and the contract's {@code /health}.
 */
@ApplicationScoped
public class ServiceHealth {

    private final AgroalDataSource dataSource;
    private final MasterKeys masterKeys;
    private final EnvironmentRegistry environments;
    private final StartupSequence startup;

    ServiceHealth(AgroalDataSource dataSource, MasterKeys masterKeys, EnvironmentRegistry environments,
                  StartupSequence startup) {
        this.dataSource = dataSource;
        this.masterKeys = masterKeys;
        this.environments = environments;
        this.startup = startup;
    }

    /** One named check and whether it passed. */
    public record Check(String name, boolean up) {
    }

    /** Runs every check now. */
    public List<Check> checks() {
        return List.of(
                new Check("started", startup.started()),
                new Check("database", databaseAnswers()),
                new Check("master-key", masterKeys.usable()),
                new Check("policies", environments.loaded()));
    }

    private boolean databaseAnswers() {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 1")) {
            return rs.next();
        } catch (SQLException e) {
            return false;
        }
    }
}
