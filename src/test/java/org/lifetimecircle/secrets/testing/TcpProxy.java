package org.lifetimecircle.secrets.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder between a service and its database, for network-cut tests: {@link #cut()} stops forwarding
 * in both directions without closing a socket (no FIN, no RST), as a pulled cable or a dropping firewall does:
 * each side sees only silence, and must notice by its own timeouts. Connections opened after the cut are
 * accepted and never forwarded.
 */
public final class TcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private volatile boolean cut;
    private volatile boolean closed;

    private TcpProxy(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
    }

    /** Forwards a free port of 127.0.0.1 to {@code host:port}. */
    public static TcpProxy to(String host, int port) {
        try {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            TcpProxy proxy = new TcpProxy(s, new InetSocketAddress(host, port));
            daemon("tcp-proxy-accept", proxy::acceptLoop);
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** From now on nothing passes, either way; every socket stays open. */
    public void cut() {
        cut = true;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                daemon("tcp-proxy-connect", () -> connect(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void connect(Socket client) {
        try {
            awaitForwarding();
            Socket upstream = new Socket();
            sockets.add(upstream);
            upstream.connect(target, 2_000);
            daemon("tcp-proxy-up", () -> pump(client, upstream));
            daemon("tcp-proxy-down", () -> pump(upstream, client));
        } catch (IOException e) {
            closeQuietly(client);
        }
    }

    /** Copies until either side closes; once cut, reads and writes nothing more. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                awaitForwarding();
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                awaitForwarding(); // what was read when the cut came is dropped with the rest
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // a side closed
        }
        if (!cut) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Returns while forwarding; once cut, blocks until the proxy is closed. */
    private void awaitForwarding() throws IOException {
        if (!cut) {
            return;
        }
        synchronized (gate) {
            while (!closed) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new IOException("proxy closed");
    }

    @Override
    public void close() {
        closed = true;
        synchronized (gate) {
            gate.notifyAll();
        }
        closeQuietly(server);
        sockets.forEach(TcpProxy::closeQuietly);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing is all that was wanted
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }
}
