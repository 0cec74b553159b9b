package org.lifetimecircle.secrets.approval;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Parameters;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Approvals by id, filtered for listings, and the lapsed ones the scheduler records. */
@ApplicationScoped
public class ApprovalRepository implements PanacheRepositoryBase<ApprovalEntity, String> {

    /**
     * Newest first. {@code status} is the status a reader sees: a PENDING row past its expiry counts as
     * EXPIRED (the scheduler records the lapse at its next run), so the filter says the same as the view.
     */
    public List<ApprovalEntity> search(Optional<ApprovalStatus> status, Optional<String> environment, Instant now,
                                       int limit) {
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        status.ifPresent(s -> {
            switch (s) {
                case PENDING -> where.add("(a.status = :pending and a.expiresAt > :now)");
                case EXPIRED -> where.add("(a.status = :expired or (a.status = :pending and a.expiresAt <= :now))");
                default -> {
                    where.add("a.status = :status");
                    params.and("status", s);
                }
            }
            if (s == ApprovalStatus.PENDING || s == ApprovalStatus.EXPIRED) {
                params.and("pending", ApprovalStatus.PENDING).and("now", now);
                if (s == ApprovalStatus.EXPIRED) {
                    params.and("expired", ApprovalStatus.EXPIRED);
                }
            }
        });
        environment.ifPresent(e -> {
            where.add("a.environment = :environment");
            params.and("environment", e);
        });
        String query = "from ApprovalEntity a" + (where.isEmpty() ? "" : " where " + String.join(" and ", where))
                + " order by a.requestedAt desc, a.id";
        return find(query, params).page(0, limit).list();
    }

    /** PENDING requests whose time ran out at or before {@code now}, oldest first. */
    public List<String> lapsed(Instant now, int limit) {
        return find("status = ?1 and expiresAt <= ?2 order by expiresAt, id", ApprovalStatus.PENDING, now)
                .page(0, limit).stream().map(a -> a.id).toList();
    }
}
