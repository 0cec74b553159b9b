package org.lifetimecircle.secrets.access;

import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.lifetimecircle.secrets.access.GrantDtos.CreateGrant;
import org.lifetimecircle.secrets.auth.Caller;

/**
 * Where a grant request goes first: two-person approval (package {@code approval}, which builds on this one)
 * answers with its 202 when the environment's policy asks for a second person. An interface here, so that
 * access never depends on the package that depends on it.
 */
public interface GrantApprovalGate {

    /** The answer when the grant must wait for approval (the request is then recorded); empty to grant at once. */
    Optional<Response> divert(CreateGrant body, Caller caller);
}
