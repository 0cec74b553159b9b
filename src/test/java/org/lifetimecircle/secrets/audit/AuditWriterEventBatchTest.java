package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * A batch of event-only units (the audited reads) is written without a savepoint per event, its grant uses
 * summed into one update per grant. The guarantees stay those of one savepoint per event: every event that
 * commits counts once on its grant, and an event that cannot be written is refused alone (the batch is run
 * again one event at a time) while the others commit. The writer is held inside another unit (a latch) until
 * the whole batch is queued, so the events really share one batch.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuditWriterEventBatchTest {

    private static final int EVENTS = 6;

    @Inject
    AuditWriter writer;

    private static String grant() {
        String name = Api.uniqueName("batch");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "deployer"))
                .post("/api/v1/principals").then().statusCode(201);
        return as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name, "environment",
                        "staging", "permission", "env-file:read", "ttl", "PT2H", "reason", "event batch test"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
    }

    private static AuditDraft read(String action, String grant) {
        return new AuditDraft(Actors.SYSTEM, action, "staging", null, Outcome.SUCCESS, null, null, Map.of(), grant,
                null);
    }

    /** Records the drafts as one batch; each future completes with null or the exception its caller got. */
    private List<CompletableFuture<Throwable>> oneBatch(List<AuditDraft> drafts) throws Exception {
        List<CompletableFuture<Throwable>> answers = new ArrayList<>();
        try (HeldWriter held = HeldWriter.hold(writer)) {
            for (AuditDraft d : drafts) {
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        writer.record(d);
                        return null;
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            Poll.until("the batch is queued", Duration.ofSeconds(30), writer::queued, n -> n == drafts.size(),
                    n -> n + " of " + drafts.size() + " queued");
        }
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        return answers;
    }

    private static long uses(String grant) throws Exception {
        return Db.queryLong("select use_count from access_grant where id = '" + grant + "'");
    }

    @Test
    void everyEventOfABatchCountsOnceOnItsGrant() throws Exception {
        String a = grant();
        String b = grant();
        List<AuditDraft> drafts = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            drafts.add(read("test.batch-read", i % 3 == 0 ? b : a));
        }
        long before = Db.queryLong("select count(*) from audit_event where action = 'test.batch-read'");

        assertThat(oneBatch(drafts)).allSatisfy(f -> assertThat(f.get()).isNull());

        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.batch-read'"))
                .isEqualTo(before + EVENTS);
        assertThat(uses(a)).isEqualTo(4);
        assertThat(uses(b)).isEqualTo(2);
        assertThat(Db.queryLong("select count(*) from access_grant where id in ('" + a + "', '" + b + "') "
                + "and last_used_at is not null")).isEqualTo(2);
    }

    @Test
    void anEventThatCannotBeWrittenIsRefusedAloneAndOnlyTheOthersCount() throws Exception {
        String g = grant();
        List<AuditDraft> drafts = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            drafts.add(read(i == 2 ? "test.batch-refused" : "test.batch-kept", g));
        }
        long kept = Db.queryLong("select count(*) from audit_event where action = 'test.batch-kept'");
        long refusedBefore = writer.refusedUnits();
        Db.refuseInserts("refuse_batch_event", "audit_event", "NEW.action = 'test.batch-refused'", "refused by test");
        List<CompletableFuture<Throwable>> answers;
        try {
            answers = oneBatch(drafts);
        } finally {
            Db.dropRefusal("refuse_batch_event", "audit_event");
        }

        for (int i = 0; i < EVENTS; i++) {
            if (i == 2) {
                assertThat(answers.get(i).get()).isInstanceOf(AuditUnavailableException.class);
            } else {
                assertThat(answers.get(i).get()).isNull();
            }
        }
        assertThat(writer.refusedUnits()).isEqualTo(refusedBefore + 1);
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.batch-refused'")).isZero();
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.batch-kept'"))
                .isEqualTo(kept + EVENTS - 1);
        assertThat(uses(g)).isEqualTo(EVENTS - 1);
    }
}
