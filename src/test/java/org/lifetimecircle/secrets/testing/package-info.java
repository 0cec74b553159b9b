/**
 * Shared test helpers. Three rules keep the tests reading alike:
 * <ul>
 * <li>Calling the API as a token: {@link org.lifetimecircle.secrets.testing.Api#as(String)} in a
 * {@code @QuarkusTest}, {@link org.lifetimecircle.secrets.testing.Api#as(ServiceProcess, String)} against
 * a packaged jar (black-box tests); starting and awaiting rotations:
 * {@link org.lifetimecircle.secrets.testing.Rotations}. No second client stack.</li>
 * <li>Waiting: {@link org.lifetimecircle.secrets.testing.Poll} (Awaitility with an interval and a
 * deadline). No hot loops (each poll of the API is a request that may write an audit event) and no
 * {@code Thread.sleep} standing in for a condition.</li>
 * <li>Assertions: AssertJ. Hamcrest appears only as REST Assured's own matcher language inside
 * {@code .then()} chains ({@code .body(...)}, {@code .header(...)}); JUnit's {@code Assertions} are not
 * used.</li>
 * </ul>
 */
package org.lifetimecircle.secrets.testing;
