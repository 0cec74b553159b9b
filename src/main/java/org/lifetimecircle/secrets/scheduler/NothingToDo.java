package org.lifetimecircle.secrets.scheduler;

/**
 * Thrown inside a writer unit when, at commit time, there is nothing left to do (a parallel run did
 * it): the unit is undone and no event is written. Not an error; carries no stack trace.
 */
final class NothingToDo extends RuntimeException {

    NothingToDo() {
        super("nothing to do", null, false, false);
    }
}
