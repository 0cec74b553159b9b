package org.lifetimecircle.secrets.masterkey;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.hibernate.Session;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditUnavailableException;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.crypto.InstallationKeys;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.crypto.DecryptionFailedException;
import org.lifetimecircle.secrets.crypto.Envelope;
import org.lifetimecircle.secrets.crypto.KeyIds;
import org.lifetimecircle.secrets.crypto.MasterKey;
import org.lifetimecircle.secrets.crypto.MasterKeys;
import org.lifetimecircle.secrets.db.WalTruncation;

/**
 * Master-key rotation at start: with {@code ltc-secrets.previous-master-key-file} set, everything
 * sealed under the previous key (the installation keys, every secret version's data key) is
 * re-wrapped under the current key in one unit of the audit writer, so the re-wrap and its
 * {@code masterkey.rewrap} event commit together or not at all. A kill at any point leaves either
 * everything under the old key (the next start with both keys does the whole job again) or
 * everything under the new key with its event. Values are never decrypted: only their data keys
 * are opened and sealed again.
 */
@ApplicationScoped
public class MasterKeyRewrap {

    private static final Logger LOG = Logger.getLogger(MasterKeyRewrap.class);
    // Versions are read in pages by id, never with one cursor open over rows the same work updates.
    private static final int PAGE = 500;

    /** How much is sealed under one master key id. */
    public record Counts(long installationKeys, long secretVersions) {

        public long total() {
            return installationKeys + secretVersions;
        }

        Counts plus(Counts o) {
            return new Counts(installationKeys + o.installationKeys, secretVersions + o.secretVersions);
        }
    }

    /** What the start did about the previous key: its id and how much it re-wrapped (zero: nothing needed). */
    public record Result(String previousKeyId, Counts rewrapped) {
    }

    private final LtcSecretsConfig config;
    private final MasterKeys masterKeys;
    private final AuditWriter writer;
    private final AgroalDataSource dataSource;
    private final EntityManager em;
    private final WalTruncation walTruncation;

    MasterKeyRewrap(LtcSecretsConfig config, MasterKeys masterKeys, AuditWriter writer, AgroalDataSource dataSource,
                    EntityManager em, WalTruncation walTruncation) {
        this.walTruncation = walTruncation;
        this.config = config;
        this.masterKeys = masterKeys;
        this.writer = writer;
        this.dataSource = dataSource;
        this.em = em;
    }

    /**
     * Re-wraps under the current key whatever the previous key sealed, if a previous key is loaded;
     * then forgets the previous key. Empty when no previous key is configured. Needs the writer
     * running and must run before the installation keys are loaded (they may still be under the old key).
     *
     * @throws RewrapRefusedException if the two files hold the same key, if stored data is sealed
     *     under a third key, or if something labelled with the previous key does not open under it
     */
    public Optional<Result> run() {
        Optional<MasterKey> previous = masterKeys.previous();
        if (previous.isEmpty()) {
            return Optional.empty();
        }
        try {
            MasterKey from = previous.get();
            MasterKey to = masterKeys.key();
            if (from.keyId().equals(to.keyId())) {
                throw new RewrapRefusedException(describePrevious(from) + " holds the same key as "
                        + describeCurrent(to) + "; set ltc-secrets.previous-master-key-file to the OLD key the data"
                        + " is sealed under, or remove the setting");
            }
            Map<String, Counts> stored = inventory();
            refuseForeign(stored, from, to);
            Counts pending = stored.get(from.keyId());
            if (pending == null) {
                LOG.infof("master key rotation: nothing is sealed under the previous master key %s any more (all"
                        + " under %s); remove ltc-secrets.previous-master-key-file and destroy the old key file",
                        from.keyId(), to.keyId());
                return Optional.of(new Result(from.keyId(), new Counts(0, 0)));
            }
            LOG.infof("master key rotation: re-wrapping %d installation key(s) and %d secret version(s) from %s to"
                    + " %s in one transaction", pending.installationKeys(), pending.secretVersions(), from.keyId(),
                    to.keyId());
            long t0 = System.nanoTime();
            Counts done = writer.submit(new Unit<>(() -> rewrapAll(from, to), counts -> event(from, to, counts), null));
            // The keys wrapped under the old master key are still in the WAL's frames until it is emptied.
            walTruncation.truncate();
            LOG.infof("master key rotation: re-wrapped %d installation key(s) and %d secret version(s) from %s to %s"
                    + " in %d ms (audited as masterkey.rewrap); the previous master key is no longer needed: back up"
                    + " the new key, then remove ltc-secrets.previous-master-key-file and destroy the old key file",
                    done.installationKeys(), done.secretVersions(), from.keyId(), to.keyId(),
                    (System.nanoTime() - t0) / 1_000_000);
            return Optional.of(new Result(from.keyId(), done));
        } catch (AuditUnavailableException e) {
            // The unit did not answer in time or its commit failed: its transaction commits whole or not at all.
            throw new RewrapRefusedException("master key rotation: the re-wrap from " + previous.get().keyId()
                    + " could not be committed with its audit event, or not within the writer's 60 s; the data is"
                    + " either all under the previous key or all under the new one: start again with both keys");
        } catch (DecryptionFailedException e) {
            // The key ids matched, so the keys are the right ones: the stored bytes are not what was written.
            throw new RewrapRefusedException("master key rotation: stored data does not open with the master key"
                    + " its header names (previous " + previous.get().keyId() + ", current "
                    + masterKeys.keyId().orElse("?") + "), so the database was damaged or altered; nothing was"
                    + " re-wrapped (it is all or nothing); restore the database from a backup");
        } finally {
            masterKeys.forgetPrevious();
        }
    }

    /** Master key id to how much stored data is sealed under it (read from the headers; no key needed). */
    public Map<String, Counts> inventory() {
        try (Connection c = dataSource.getConnection()) {
            return inventory(c);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read which master keys the stored data needs", e);
        }
    }

    private static Map<String, Counts> inventory(Connection c) throws SQLException {
        Map<String, Counts> byKey = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("select sealed from installation_key");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                byKey.merge(KeyIds.ofSealedKey(rs.getBytes(1)), new Counts(1, 0), Counts::plus);
            }
        }
        // An IMPORT waiting for approval holds its value sealed like a version's: counted with them.
        for (String sql : List.of("select ciphertext from secret_version where ciphertext is not null",
                "select import_ciphertext from approval where import_ciphertext is not null")) {
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byKey.merge(KeyIds.ofEnvelope(rs.getBytes(1)), new Counts(0, 1), Counts::plus);
                }
            }
        }
        return byKey;
    }

    private void refuseForeign(Map<String, Counts> stored, MasterKey from, MasterKey to) {
        Map<String, Counts> foreign = new TreeMap<>(stored);
        foreign.remove(from.keyId());
        foreign.remove(to.keyId());
        if (foreign.isEmpty()) {
            return;
        }
        throw new RewrapRefusedException("neither " + describeCurrent(to) + " nor " + describePrevious(from)
                + " opens the stored data in " + config.dataDir() + ": " + describe(foreign) + "; start with the key"
                + " file of that id (as ltc-secrets.master-key-file, or as ltc-secrets.previous-master-key-file to"
                + " re-wrap it under a new key); k8s-free-deploy/ltc-secrets-db key-id FILE shows a file's id");
    }

    /** Runs on the writer thread inside its transaction; throws (and so changes nothing) on anything unexpected. */
    private Counts rewrapAll(MasterKey from, MasterKey to) {
        return em.unwrap(Session.class).doReturningWork(c -> {
            long keys = rewrapInstallationKeys(c, from, to);
            long versions = rewrapSecretVersions(c, from, to) + rewrapAwaitingImports(c, from, to);
            return new Counts(keys, versions);
        });
    }

    private static long rewrapInstallationKeys(Connection c, MasterKey from, MasterKey to) throws SQLException {
        Map<String, byte[]> rows = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("select purpose, sealed from installation_key order by purpose");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getBytes(2));
            }
        }
        long count = 0;
        try (PreparedStatement update = c.prepareStatement(
                "update installation_key set sealed = ? where purpose = ?")) {
            for (Map.Entry<String, byte[]> row : rows.entrySet()) {
                if (needsRewrap(KeyIds.ofSealedKey(row.getValue()), from, to)) {
                    update.setBytes(1, InstallationKeys.reseal(row.getKey(), row.getValue(), from, to));
                    update.setString(2, row.getKey());
                    update.executeUpdate();
                    count++;
                }
            }
        }
        return count;
    }

    private static long rewrapSecretVersions(Connection c, MasterKey from, MasterKey to) throws SQLException {
        long count = 0;
        long after = 0;
        try (PreparedStatement page = c.prepareStatement("select id, environment, secret, version, ciphertext"
                + " from secret_version where ciphertext is not null and id > ? order by id limit " + PAGE);
             PreparedStatement update = c.prepareStatement("update secret_version set ciphertext = ? where id = ?")) {
            while (true) {
                List<Object[]> rows = new ArrayList<>(PAGE);
                page.setLong(1, after);
                try (ResultSet rs = page.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Object[] {rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                            rs.getBytes(5)});
                    }
                }
                if (rows.isEmpty()) {
                    return count;
                }
                for (Object[] row : rows) {
                    long id = (Long) row[0];
                    byte[] blob = (byte[]) row[4];
                    after = id;
                    if (needsRewrap(KeyIds.ofEnvelope(blob), from, to)) {
                        Envelope.Binding binding =
                                new Envelope.Binding((String) row[1], (String) row[2], (Long) row[3]);
                        update.setBytes(1, Envelope.rewrap(from, to, blob, binding));
                        update.setLong(2, id);
                        update.executeUpdate();
                        count++;
                    }
                }
            }
        }
    }

    /** The values of IMPORTs waiting for approval (few: one per open request at most). */
    private static long rewrapAwaitingImports(Connection c, MasterKey from, MasterKey to) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select id, environment, secret, import_ciphertext from approval"
                + " where import_ciphertext is not null order by id"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)});
            }
        }
        long count = 0;
        try (PreparedStatement update = c.prepareStatement("update approval set import_ciphertext = ? where id = ?")) {
            for (Object[] row : rows) {
                byte[] blob = (byte[]) row[3];
                if (needsRewrap(KeyIds.ofEnvelope(blob), from, to)) {
                    Envelope.Binding binding = Envelope.Binding.awaitingApproval((String) row[1], (String) row[2],
                            (String) row[0]);
                    update.setBytes(1, Envelope.rewrap(from, to, blob, binding));
                    update.setString(2, (String) row[0]);
                    update.executeUpdate();
                    count++;
                }
            }
        }
        return count;
    }

    /** Under the previous key: re-wrap; under the current one: leave; under any other: stop the whole unit. */
    private static boolean needsRewrap(String keyId, MasterKey from, MasterKey to) {
        if (keyId.equals(from.keyId())) {
            return true;
        }
        if (keyId.equals(to.keyId())) {
            return false;
        }
        throw new RewrapRefusedException("master key rotation: stored data is sealed under " + keyId + ", neither the"
                + " master key " + to.keyId() + " nor the previous master key " + from.keyId() + "; nothing was"
                + " re-wrapped");
    }

    private static AuditDraft event(MasterKey from, MasterKey to, Counts counts) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("fromKeyId", from.keyId());
        details.put("toKeyId", to.keyId());
        details.put("installationKeys", counts.installationKeys());
        details.put("secretVersions", counts.secretVersions());
        return AuditDraft.by(Actors.SYSTEM).action("masterkey.rewrap").target(to.keyId()).details(details);
    }

    private String describeCurrent(MasterKey key) {
        return "the master key " + config.effectiveMasterKeyFile().toAbsolutePath() + " (id " + key.keyId() + ")";
    }

    private String describePrevious(MasterKey key) {
        Path file = config.previousMasterKeyFile().map(Path::toAbsolutePath).orElse(null);
        return "the previous master key " + file + " (id " + key.keyId() + ")";
    }

    private static String describe(Map<String, Counts> byKey) {
        List<String> parts = new ArrayList<>();
        byKey.forEach((id, n) -> parts.add(n.installationKeys() + " installation key(s) and " + n.secretVersions()
                + " secret version(s) are sealed under " + id));
        return String.join(", ", parts);
    }
}
