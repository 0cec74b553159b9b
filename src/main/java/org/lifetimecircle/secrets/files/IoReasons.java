package org.lifetimecircle.secrets.files;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Why a file operation failed, in the operating system's words ({@code Permission denied}, {@code Not a
 * directory}, {@code No space left on device}), never an exception class: these texts reach API callers
 * (problem details, rotation steps, drift and preflight details, alerts). JDK file exceptions carry paths
 * and the OS reason, never file content.
 */
public final class IoReasons {

    private IoReasons() {
    }

    /** The path and the reason, e.g. {@code /etc/x/.prod.env.tmp-…: Read-only file system}. */
    public static String describe(Exception e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return f.getFile() + ": " + reason(e);
        }
        return reason(e);
    }

    /** The reason alone, for a sentence that already names the path. */
    public static String reason(Exception e) {
        if (e instanceof FileSystemException f) {
            return f.getReason() != null ? f.getReason()
                    : f instanceof AccessDeniedException ? "Permission denied"
                    : f instanceof NoSuchFileException ? "No such file or directory"
                    : f instanceof FileAlreadyExistsException ? "File exists"
                    : f instanceof NotDirectoryException ? "Not a directory"
                    : f instanceof DirectoryNotEmptyException ? "Directory not empty"
                    : f instanceof FileSystemLoopException ? "Too many levels of symbolic links"
                    : "I/O error";
        }
        if (e instanceof IOException && e.getMessage() != null) {
            return e.getMessage(); // e.g. "No space left on device" from a write, "Is a directory" from a read
        }
        return e instanceof IOException ? "I/O error" : "unexpected failure";
    }
}
