package org.lifetimecircle.secrets.envfile;

import java.nio.file.Path;

/** An env file could not be written or verified; the message names the path and the reason, never content. */
public final class EnvFileWriteException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;
    private final String reason;
    private final boolean replaced;

    EnvFileWriteException(Path path, String reason, boolean replaced, Throwable cause) {
        super(path + ": " + reason, cause);
        this.path = path;
        this.reason = reason;
        this.replaced = replaced;
    }

    /** A failure before the target was touched: the previous file, if any, is as it was. */
    EnvFileWriteException(Path path, String reason, Throwable cause) {
        this(path, reason, false, cause);
    }

    EnvFileWriteException(Path path, String reason) {
        this(path, reason, false, null);
    }

    /** The file (or, for start-up clean-up, the directory) concerned. */
    public Path path() {
        return path;
    }

    /** Why, without the path, e.g. {@code is a symbolic link}. */
    public String reason() {
        return reason;
    }

    /**
     * True if the target was already replaced when the failure came (durability or read-back): the new content
     * is in place but unverified, so the caller should treat the write as failed and write a good version again.
     * False means the previous file is untouched.
     */
    public boolean replaced() {
        return replaced;
    }
}
