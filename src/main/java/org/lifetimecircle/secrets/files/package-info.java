/**
 * Atomic, durable writes of small private files, and the operating system's words for why one failed.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.files;
