/**
 * The policy files: strict YAML reading, validation, the policy records, and {@link EnvironmentRegistry}, the
 * environments loaded at start.
 *
 * <p>May use: web.
 */
package org.lifetimecircle.secrets.policy;
