/**
 * Two-person approval: on an environment whose policy asks for it, a grant or a MANUAL, ROLLBACK or
 * IMPORT rotation is first a request, and takes effect only when a second person approves it. Each
 * request, approval, denial and lapse is one unit of the single audit writer with its event. It builds on
 * access and rotation, which reach it only through their gate interfaces ({@code GrantApprovalGate},
 * {@code RotationApprovalGate}).
 *
 * <p>May use: access, audit, auth, config, crypto, db, policy, rotation, secret, web.
 */
package org.lifetimecircle.secrets.approval;
