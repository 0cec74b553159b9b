package org.lifetimecircle.secrets.preflight;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lifetimecircle.secrets.files.IoReasons;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.preflight.PreflightViews.Check;

/**
 * The app's data and storage directories: they exist, the app's user can write them (permission
 * bits against its uid and groups), and they live on persistent storage (a tmpfs or ramfs is empty
 * after a reboot, and the app's database with it).
 */
final class PathChecks {

    private static final Set<String> VOLATILE = Set.of("tmpfs", "ramfs");

    private PathChecks() {
    }

    static Check directory(String name, EnvironmentPolicy p, Optional<String> path, Path fileRoot) {
        if (path.isEmpty()) {
            return Check.warn(name, "the policy has no paths." + name.replace("-path", "") + "; nothing to check");
        }
        Path dir = fileRoot.resolve(path.get().substring(1));
        try {
            if (!Files.isDirectory(dir)) {
                return Check.fail(name, path.get() + " does not exist or is not a directory (install.sh creates it)");
            }
            FileStore store = Files.getFileStore(dir);
            if (VOLATILE.contains(store.type())) {
                return Check.fail(name, path.get() + " is on " + store.type() + ", which is emptied at every reboot; "
                        + "put it on a persistent disk");
            }
            Optional<String> user = p.app().flatMap(a -> a.user());
            if (user.isEmpty()) {
                return Check.warn(name, path.get() + " exists on " + store.type() + "; set app.user in the policy to "
                        + "check that the app can write it");
            }
            Optional<HostUsers.User> found = HostUsers.find(fileRoot, user.get());
            if (found.isEmpty()) {
                return Check.fail(name, "app.user " + user.get() + " is not a local user (etc/passwd); create it "
                        + "(install.sh) or fix app.user");
            }
            String problem = writableProblem(dir, found.get());
            if (problem != null) {
                return Check.fail(name, path.get() + " " + problem);
            }
            return Check.pass(name, path.get() + " exists, is writable by " + user.get() + " and is on "
                    + store.type());
        } catch (NoSuchFileException e) {
            return Check.fail(name, path.get() + " does not exist");
        } catch (IOException | RuntimeException e) {
            return Check.fail(name, path.get() + " cannot be inspected: " + IoReasons.reason(e));
        }
    }

    /** Null if {@code user} may create files in {@code dir} by its permission bits, else why not. */
    static String writableProblem(Path dir, HostUsers.User user) throws IOException {
        if (user.uid() == 0) {
            return null;
        }
        Map<String, Object> a = Files.readAttributes(dir, "unix:mode,uid,gid");
        int mode = (Integer) a.get("mode");
        long owner = ((Number) a.get("uid")).longValue();
        long group = ((Number) a.get("gid")).longValue();
        // Creating a file needs write and search permission on the directory; the class that
        // applies is the first of owner, group, other that matches, as the kernel decides.
        int wx;
        String as;
        if (owner == user.uid()) {
            wx = (mode >> 6) & 3;
            as = "its owner";
        } else if (user.gids().contains(group)) {
            wx = (mode >> 3) & 3;
            as = "a member of its group";
        } else {
            wx = mode & 3;
            as = "neither its owner nor in its group";
        }
        if (wx != 3) {
            return String.format("is not writable by %s (%s; mode %04o, owner uid %d, group gid %d): "
                    + "chown %s and chmod u+rwx", user.name(), as, mode & 07777, owner, group, user.name());
        }
        return null;
    }
}
