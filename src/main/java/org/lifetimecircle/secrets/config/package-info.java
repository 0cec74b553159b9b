/**
 * The {@code ltc-secrets.*} settings and the one clock.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.config;
