package org.lifetimecircle.secrets.crypto;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Holds the master key for the life of the application and erases it at shutdown; during a
 * master-key rotation also the previous key, only until the start-up re-wrap is over.
 */
@ApplicationScoped
public class MasterKeys {

    private volatile MasterKey current;
    private volatile MasterKey previous;

    /** Loads the key (see {@link MasterKeyLoader}); throws {@link MasterKeyException} with the fix. */
    public void load(Path file, boolean createIfMissing) {
        MasterKey loaded = MasterKeyLoader.load(file, createIfMissing);
        MasterKey old = current;
        current = loaded;
        if (old != null) {
            old.close();
        }
    }

    /** Loads the previous key of a rotation (see {@link MasterKeyLoader#loadPrevious}); never created. */
    public void loadPrevious(Path file) {
        MasterKey loaded = MasterKeyLoader.loadPrevious(file);
        MasterKey old = previous;
        previous = loaded;
        if (old != null) {
            old.close();
        }
    }

    /** The previous key, while one is loaded. */
    public Optional<MasterKey> previous() {
        MasterKey k = previous;
        return k == null || k.isDestroyed() ? Optional.empty() : Optional.of(k);
    }

    /** Erases the previous key: once the data is under the current key nothing needs it any more. */
    public void forgetPrevious() {
        MasterKey k = previous;
        previous = null;
        if (k != null) {
            k.close();
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
        forgetPrevious();
    }
}
