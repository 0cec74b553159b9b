package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Where a MANUAL, ROLLBACK or IMPORT rotation request goes first: two-person approval (package
 * {@code approval}, which builds on this one) answers with its 202 when the environment's policy asks for
 * a second person. An interface here, so that rotation never depends on the package that depends on it.
 */
public interface RotationApprovalGate {

    /** The answer when the rotation must wait for approval (the request is then recorded); empty to start now. */
    Optional<Response> divert(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind, Reason reason,
                              Optional<SecretValue> imported, Caller caller);
}
