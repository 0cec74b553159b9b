package org.lifetimecircle.secrets.preflight;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Local users and their groups, read from {@code etc/passwd} and {@code etc/group} under the file
 * root: on a host that is {@code /etc}; in a test or an install into a prefix it is the prefix's own,
 * the same way every policy path is resolved. Users from LDAP or other NSS sources are not seen:
 * the app's system user is a local one (install.sh creates it).
 */
final class HostUsers {

    /** A user's uid and every group id it belongs to (primary and supplementary). */
    record User(String name, long uid, Set<Long> gids) {
    }

    private HostUsers() {
    }

    /** The user, or empty if {@code etc/passwd} under {@code root} has no such name. */
    static Optional<User> find(Path root, String name) throws IOException {
        List<String> passwd;
        try {
            passwd = Files.readAllLines(root.resolve("etc/passwd"));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        for (String line : passwd) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && f[0].equals(name)) {
                Set<Long> gids = new HashSet<>();
                gids.add(Long.parseLong(f[3]));
                gids.addAll(supplementary(root, name));
                return Optional.of(new User(name, Long.parseLong(f[2]), Set.copyOf(gids)));
            }
        }
        return Optional.empty();
    }

    private static Set<Long> supplementary(Path root, String name) throws IOException {
        Set<Long> gids = new HashSet<>();
        List<String> group;
        try {
            group = Files.readAllLines(root.resolve("etc/group"));
        } catch (NoSuchFileException e) {
            return gids;
        }
        for (String line : group) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && List.of(f[3].split(",")).contains(name)) {
                gids.add(Long.parseLong(f[2]));
            }
        }
        return gids;
    }
}
