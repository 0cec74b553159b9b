/**
 * What SQLite needs beyond Hibernate's defaults: the dialect, epoch-millisecond instants, and WAL truncation.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.db;
