/**
 * Alerts: an ERROR log line, and a POST to the configured webhook when there is one.
 *
 * <p>May use: config.
 */
package org.lifetimecircle.secrets.alert;
