/**
 * Keys and sealed values: the master key (loaded, created, held), envelope encryption of secret versions,
 * the installation's audit keys, the shared DRBG, and generated secret values.
 *
 * <p>May use: files, policy.
 */
package org.lifetimecircle.secrets.crypto;
