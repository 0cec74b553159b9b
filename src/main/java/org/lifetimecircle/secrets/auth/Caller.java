package org.lifetimecircle.secrets.auth;

/** The authenticated principal of the current request. */
public record Caller(long principalId, String name, Role role, String tokenId) {
}
