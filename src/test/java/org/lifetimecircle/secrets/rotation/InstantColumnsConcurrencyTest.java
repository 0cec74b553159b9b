package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.db.EpochMillisInstantJdbcType;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The crash drill's wrong {@code rotation.requested_at}: at a restart two resumed rotations ran at
 * once, and the writer's {@code rotation.start} of one stored another secret's version time as its
 * {@code requested_at}. Every {@code Instant} column was read through one Calendar shared by the
 * whole JVM (Hibernate's UTC calendar, which sqlite-jdbc sets to each value it reads), so a read on
 * one thread could return the value a read on another thread had just put there; the writer then
 * wrote the whole dirty row back with it. Here rows are read on two threads while the writer updates
 * them: every read, and every row on disk afterwards, must keep its own time.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class InstantColumnsConcurrencyTest {

    private static final String ENV = "instant-race";
    private static final int ROWS = 60;
    private static final int UPDATES = 300;
    private static final long BASE = 1_000_000_000_000L; // 2001: never the newest rotation of another test

    @Inject
    AuditWriter writer;

    @Inject
    RotationRepository rotations;

    @Inject
    EntityManager em;

    @AfterEach
    void removeRows() throws Exception {
        Db.exec("delete from rotation where environment = '" + ENV + "'");
    }

    @Test
    void concurrentReadsKeepEveryRowsOwnTimes() throws Exception {
        Map<String, Instant> requested = new HashMap<>();
        Map<String, Instant> finished = new HashMap<>();
        for (int i = 0; i < ROWS; i++) {
            // Far apart, so a value read from the wrong row can never pass for the right one.
            requested.put(String.format("instrace%08d", i), Instant.ofEpochMilli(BASE + i * 86_400_000L + 7));
            finished.put(String.format("instrace%08d", i), Instant.ofEpochMilli(BASE + i * 86_400_000L + 999_000));
        }
        writer.submit(new Unit<>(() -> {
            requested.forEach((id, at) -> {
                RotationEntity r = new RotationEntity();
                r.id = id;
                r.environment = ENV;
                r.secret = "S" + id;
                r.kind = RotationKind.MANUAL;
                r.status = RotationStatus.COMPLETED;
                r.requestedBy = "test";
                r.reason = "instant columns under concurrency";
                r.requestedAt = at;
                r.finishedAt = finished.get(id);
                rotations.persist(r);
            });
            return null;
        }, x -> draft(), null));

        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService readers = Executors.newFixedThreadPool(2);
        List<Future<?>> running = new ArrayList<>();
        try {
            for (int t = 0; t < 2; t++) {
                running.add(readers.submit(() -> {
                    while (!done.get()) {
                        List<RotationEntity> rows = QuarkusTransaction.requiringNew()
                                .call(() -> rotations.list("environment", ENV));
                        for (RotationEntity r : rows) {
                            if ((!r.requestedAt.equals(requested.get(r.id)) || !r.finishedAt.equals(finished.get(r.id)))
                                    && wrong.size() < 5) {
                                wrong.add("read " + r.id + ": " + r.requestedAt + " / " + r.finishedAt);
                            }
                        }
                    }
                }));
            }
            // What the rotation engine's units do: load the row in the writer's session, change its
            // status; Hibernate writes every column of the dirty row back.
            List<String> ids = new ArrayList<>(requested.keySet());
            for (int i = 0; i < UPDATES; i++) {
                String id = ids.get(i % ids.size());
                writer.submit(new Unit<>(() -> {
                    RotationEntity r = rotations.findById(id);
                    r.status = r.status == RotationStatus.COMPLETED ? RotationStatus.FAILED : RotationStatus.COMPLETED;
                    return null;
                }, x -> draft(), null));
            }
        } finally {
            done.set(true);
            for (Future<?> f : running) {
                f.get(60, TimeUnit.SECONDS);
            }
            readers.shutdown();
        }

        List<String> stored = new ArrayList<>();
        try (Connection c = Db.open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select id, requested_at, finished_at from rotation where environment = '"
                     + ENV + "'")) {
            while (rs.next()) {
                String id = rs.getString(1);
                if (rs.getLong(2) != requested.get(id).toEpochMilli() || rs.getLong(3) != finished.get(id).toEpochMilli()) {
                    stored.add("stored " + id + ": " + rs.getLong(2) + " / " + rs.getLong(3));
                }
            }
        }
        assertThat(stored).as("rows written back by the writer").isEmpty();
        assertThat(wrong).as("rows as read").isEmpty();
    }

    /** The same cause, checked without a race: no entity's time column goes through the shared calendar. */
    @Test
    void everyInstantColumnIsReadAsEpochMillis() {
        Map<String, String> types = new TreeMap<>();
        em.getEntityManagerFactory().unwrap(SessionFactoryImplementor.class).getMappingMetamodel()
                .forEachEntityDescriptor(entity -> entity.forEachAttributeMapping(a -> {
                    if (a.getJavaType().getJavaTypeClass() == Instant.class) {
                        types.put(entity.getEntityName() + "." + a.getAttributeName(),
                                a.getSingleJdbcMapping().getJdbcType().getClass().getSimpleName());
                    }
                }));
        assertThat(types).containsKey(RotationEntity.class.getName() + ".requestedAt");
        assertThat(types.values()).containsOnly(EpochMillisInstantJdbcType.class.getSimpleName());
    }

    private static AuditDraft draft() {
        return AuditDraft.by("test").action("test.instant-race").environment(ENV);
    }
}
