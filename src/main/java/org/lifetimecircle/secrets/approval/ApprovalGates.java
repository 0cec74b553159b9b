package org.lifetimecircle.secrets.approval;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Clock;
import java.util.Optional;
import org.lifetimecircle.secrets.access.GrantApprovalGate;
import org.lifetimecircle.secrets.access.GrantDtos.CreateGrant;
import org.lifetimecircle.secrets.approval.ApprovalViews.ApprovalView;
import org.lifetimecircle.secrets.approval.ApprovalViews.Pending;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.rotation.RotationApprovalGate;
import org.lifetimecircle.secrets.rotation.RotationKind;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Turns a grant or rotation request on an environment whose policy asks for two-person approval into a
 * PENDING request: 202 {@code {approval}} with {@code Location: /api/v1/approvals/{id}}; nothing takes effect.
 */
@ApplicationScoped
public class ApprovalGates implements GrantApprovalGate, RotationApprovalGate {

    private final ApprovalService approvals;
    private final EnvironmentRegistry environments;
    private final Clock clock;

    ApprovalGates(ApprovalService approvals, EnvironmentRegistry environments, Clock clock) {
        this.approvals = approvals;
        this.environments = environments;
        this.clock = clock;
    }

    @Override
    public Optional<Response> divert(CreateGrant body, Caller caller) {
        // A malformed or unknown environment is the grant path's to refuse, with its own message.
        Optional<EnvironmentPolicy> policy = body == null || !EnvironmentRegistry.validName(body.environment())
                ? Optional.empty() : environments.find(body.environment());
        if (policy.isEmpty() || !policy.get().grantsNeedApproval()) {
            return Optional.empty();
        }
        return Optional.of(accepted(approvals.requestGrant(body, policy.get(), caller)));
    }

    @Override
    public Optional<Response> divert(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind, Reason reason,
                                     Optional<SecretValue> imported, Caller caller) {
        // EMERGENCY and the service's own kinds (SCHEDULED, INITIAL) never come here and never wait.
        if (!policy.rotationsNeedApproval()
                || !(kind == RotationKind.MANUAL || kind == RotationKind.ROLLBACK || kind == RotationKind.IMPORT)) {
            return Optional.empty();
        }
        return Optional.of(accepted(approvals.requestRotation(policy, secret, kind, reason, imported, caller)));
    }

    private Response accepted(ApprovalEntity a) {
        return Response.accepted(new Pending(ApprovalView.of(a, clock.instant())))
                .location(URI.create("/api/v1/approvals/" + a.id)).build();
    }
}
