package org.lifetimecircle.secrets.audit;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Steps a result set on a second thread, a few batches ahead of the caller, handing over each
 * row's first column as bytes. Stepping SQLite and copying a row out through JNI is about half of
 * an export's or a verification's work per event; the other half (decoding, hashing, writing)
 * runs meanwhile on the caller's thread, so the two use both cores. Memory is bounded: at most
 * {@code QUEUED + 2} batches of {@code BATCH} rows exist at a time.
 *
 * <p>While this is open, the result set (and its connection) belong to the reading thread: the
 * caller touches neither until {@link #close()} has returned.
 */
final class ReadAhead implements AutoCloseable {

    private static final int BATCH = 512;
    private static final int QUEUED = 4;
    private static final byte[][] END = new byte[0][];

    private final BlockingQueue<byte[][]> batches = new ArrayBlockingQueue<>(QUEUED);
    private final Thread reader;
    private volatile boolean closed;
    private volatile SQLException failure;
    private byte[][] batch = new byte[0][];
    private int next;

    ReadAhead(ResultSet rs) {
        reader = new Thread(() -> read(rs), "audit-read-ahead");
        reader.setDaemon(true);
        reader.start();
    }

    /** The next row's first column, or null after the last row; a failure of the reading thread is thrown here. */
    byte[] next() throws SQLException {
        if (next == batch.length) {
            if (batch == END) {
                return null;
            }
            try {
                batch = batches.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while reading the audit trail", e);
            }
            next = 0;
            if (batch == END) {
                if (failure != null) {
                    throw failure;
                }
                return null;
            }
        }
        return batch[next++];
    }

    private void read(ResultSet rs) {
        byte[][] rows = new byte[BATCH][];
        int n = 0;
        try {
            while (!closed && rs.next()) {
                byte[] row = rs.getBytes(1);
                if (row == null) {
                    throw new SQLException("a row without a value"); // null is the caller's end
                }
                rows[n++] = row;
                if (n == BATCH) {
                    batches.put(rows);
                    rows = new byte[BATCH][];
                    n = 0;
                }
            }
        } catch (InterruptedException e) {
            return; // closed early: nobody is waiting for the rest
        } catch (Throwable e) { // whatever stops this thread must reach the caller, or it would wait forever
            failure = e instanceof SQLException s ? s : new SQLException("cannot read the audit trail", e);
        }
        try {
            if (n > 0) {
                batches.put(Arrays.copyOf(rows, n));
            }
            batches.put(END);
        } catch (InterruptedException e) {
            // closed early
        }
    }

    /** Stops the reading thread and waits for it, so the caller may close the result set. */
    @Override
    public void close() {
        closed = true;
        reader.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                reader.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
