package org.lifetimecircle.secrets.audit;

/**
 * Thrown inside a writer unit when, at commit time, there is nothing left to do (a parallel run or a
 * rotation did it): the unit is undone and no event is written; the writer hands it back to the
 * caller, which catches it. Not an error; carries no stack trace.
 */
public final class NothingToDo extends RuntimeException {

    public NothingToDo() {
        super("nothing to do", null, false, false);
    }
}
