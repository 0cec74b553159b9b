package org.lifetimecircle.secrets.auth;

import jakarta.enterprise.context.RequestScoped;
import java.util.Optional;

/** Holds the caller that {@code access.AuthFilter} authenticated, for services further down the request. */
@RequestScoped
public class CallerContext {

    private Caller caller;

    /** Only {@code access.AuthFilter} calls this, once the request's token has been checked. */
    public void set(Caller caller) {
        this.caller = caller;
    }

    /** The caller, if the request was authenticated. */
    public Optional<Caller> caller() {
        return Optional.ofNullable(caller);
    }

    /** The caller of an authenticated endpoint; only {@link Requires} endpoints reach this. */
    public Caller require() {
        if (caller == null) {
            throw new IllegalStateException("no authenticated caller on this request");
        }
        return caller;
    }
}
