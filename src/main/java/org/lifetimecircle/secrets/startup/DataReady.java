package org.lifetimecircle.secrets.startup;

/**
 * Fired by {@link StartupSequence} once the schema is migrated, the policies are loaded and the secrets are
 * recovered, just before the service counts as started. Packages above startup observe it to set up what reads
 * that data (the scheduler's meters) without startup depending on them; an exception from an observer stops the
 * start like any other step.
 */
public record DataReady() {
}
