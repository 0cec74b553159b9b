package org.lifetimecircle.secrets.startup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.lifetimecircle.secrets.files.SecureFiles;

/**
 * Makes the SQLite files private (0600) whatever the process umask: SQLite creates the database with
 * mode 0644 minus the umask, so the file is created here first, exactly 0600, before anything opens
 * it. SQLite's unix VFS gives a new {@code -wal} and {@code -shm} (and {@code -journal}) the mode of
 * the database file itself, so they follow. Files an older release left more open are narrowed.
 */
final class DatabaseFiles {

    private static final String PREFIX = "jdbc:sqlite:";
    private static final String[] COMPANIONS = {"-wal", "-shm", "-journal"};

    private DatabaseFiles() {
    }

    /** For the configured JDBC URL; a URL that names no file (in-memory, another driver) is left alone. */
    static void makePrivate(Optional<String> jdbcUrl) {
        Optional<Path> db = jdbcUrl.flatMap(DatabaseFiles::file);
        if (db.isEmpty()) {
            return;
        }
        try {
            SecureFiles.createPrivate(db.get(), SecureFiles.OWNER_RW);
            for (String suffix : COMPANIONS) {
                SecureFiles.narrowToOwner(Path.of(db.get() + suffix));
            }
        } catch (IOException e) {
            throw new StartupRefusedException("cannot create the database file " + db.get() + " with mode 0600: "
                    + e.getClass().getSimpleName() + "; the data directory must be writable by the service user");
        }
    }

    /** The database file of a {@code jdbc:sqlite:} URL, without its {@code ?pragma} part. */
    static Optional<Path> file(String url) {
        if (!url.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String rest = url.substring(PREFIX.length());
        int query = rest.indexOf('?');
        String name = query < 0 ? rest : rest.substring(0, query);
        if (name.startsWith("file:")) {
            name = name.substring("file:".length());
        }
        if (name.isEmpty() || name.startsWith(":memory:") || name.startsWith(":resource:")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(name));
    }
}
