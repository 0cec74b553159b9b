package org.lifetimecircle.secrets.restorehold;

import org.lifetimecircle.secrets.policy.EnvironmentPolicy;

/**
 * What releasing the hold asks for next: one environment's env file brought up to date from its CURRENT versions.
 * The env files are written above this package ({@code envfile.EnvFileSync} implements it), so the hold names only this.
 */
public interface ReleaseSync {

    /** Writes the env file if it differs from what the CURRENT versions render, audited with cause and actor. */
    void sync(EnvironmentPolicy policy, String cause, String actor);
}
