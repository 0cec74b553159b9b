package org.lifetimecircle.secrets.db;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.Locale;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Produces the running {@link Store} from {@code ltc-secrets.store} (validated with the rest of the configuration). */
@ApplicationScoped
public class Stores {

    @Produces
    @ApplicationScoped
    Store store(@ConfigProperty(name = "ltc-secrets.store", defaultValue = "sqlite") String store) {
        return of(store);
    }

    /** The store named by a value of {@code ltc-secrets.store}. */
    public static Store of(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "postgresql" -> new PostgresqlStore();
            case "sqlite" -> new SqliteStore();
            default -> throw new IllegalArgumentException("ltc-secrets.store must be sqlite or postgresql");
        };
    }
}
