package org.lifetimecircle.secrets.policy;

import java.util.Objects;
import java.util.Optional;

/** The application's data and storage directories, which preflight checks exist and are writable. */
public record PathsPolicy(Optional<String> data, Optional<String> storage) {

    public PathsPolicy {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(storage, "storage");
        data.ifPresent(d -> Rules.check("paths.data", Rules.absolutePathProblem(d)));
        storage.ifPresent(s -> Rules.check("paths.storage", Rules.absolutePathProblem(s)));
    }
}
