/**
 * The start sequence: configuration, data directory, master key, policies, schema, audit, re-wrap, bootstrap
 * admin and secrets, in an order that refuses early and clearly.
 *
 * <p>May use: access, audit, config, crypto, db, files, ha, masterkey, policy, rotation, secret.
 */
package org.lifetimecircle.secrets.startup;
