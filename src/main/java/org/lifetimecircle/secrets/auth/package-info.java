/**
 * The authorisation vocabulary every resource names: roles, permissions, {@code @Requires},
 * {@code @Unauthenticated}, and the caller of the current request. The bottom of the graph, so any package can
 * use it; {@code access} enforces it.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.auth;
