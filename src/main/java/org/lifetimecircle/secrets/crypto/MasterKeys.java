package org.lifetimecircle.secrets.crypto;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.Optional;

/** Holds the master key for the life of the application and erases it at shutdown. */
@ApplicationScoped
public class MasterKeys {

    private volatile MasterKey current;

    /** Loads the key (see {@link MasterKeyLoader}); throws {@link MasterKeyException} with the fix. */
    public void load(Path file, boolean createIfMissing) {
        MasterKey loaded = MasterKeyLoader.load(file, createIfMissing);
        MasterKey old = current;
        current = loaded;
        if (old != null) {
            old.close();
        }
    }

    /** The loaded key; its raw bytes stay readable only inside this package. */
    public MasterKey key() {
        MasterKey k = current;
        if (k == null || k.isDestroyed()) {
            throw new IllegalStateException("the master key is not loaded");
        }
        return k;
    }

    /** The key id of the loaded key, if any (health, logs). */
    public Optional<String> keyId() {
        MasterKey k = current;
        return k == null || k.isDestroyed() ? Optional.empty() : Optional.of(k.keyId());
    }

    /** Whether a usable key is loaded. */
    public boolean usable() {
        return keyId().isPresent();
    }

    @PreDestroy
    void erase() {
        MasterKey k = current;
        if (k != null) {
            k.close();
        }
    }
}
