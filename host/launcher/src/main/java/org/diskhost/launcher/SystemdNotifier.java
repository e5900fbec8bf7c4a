package org.diskhost.launcher;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.UnixDatagram;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceReference;

/**
 * Tells systemd how the host is doing ({@code sd_notify}, a datagram to {@code NOTIFY_SOCKET}): {@code READY=1} once
 * the host's status says ready (every configured disk ready or failed, every configured frontend listening or failed),
 * {@code STATUS=} with its summary whenever that changes, {@code RELOADING=1} when a reload begins and {@code READY=1}
 * again once the host is ready after it, {@code STOPPING=1} when the stop begins (before the disks drain), and
 * {@code WATCHDOG=1} every half {@code WATCHDOG_USEC} while the framework runs. The host's status is read from the
 * properties of its {@code HostStatus} service alone, so the launcher loads no bundle's class.
 */
final class SystemdNotifier {
    private static final Logger LOG = Logger.getLogger("diskhost");
    /** The {@code HostStatus} service, by its properties. */
    static final String HOST_STATUS_FILTER = "(&(diskhost.ready=*)(diskhost.summary=*))";

    private final String socket;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean warned = new AtomicBoolean();
    private boolean readySent; // guarded by this
    private boolean reloading; // guarded by this
    private String lastStatus; // guarded by this

    private SystemdNotifier(String socket) {
        this.socket = socket;
    }

    /** The notifier for systemd's socket, if the environment names one ({@code NOTIFY_SOCKET}). */
    static Optional<SystemdNotifier> fromEnvironment(Map<String, String> environment) {
        String socket = environment.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new SystemdNotifier(socket));
    }

    /** Follows the host's status from now on. */
    void watch(BundleContext context) {
        try {
            context.addServiceListener(event -> {
                if (event.getType() != ServiceEvent.UNREGISTERING) {
                    hostStatus(event.getServiceReference());
                }
            }, HOST_STATUS_FILTER);
            ServiceReference<?>[] present = context.getServiceReferences((String) null, HOST_STATUS_FILTER);
            if (present != null) {
                hostStatus(present[0]);
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void hostStatus(ServiceReference<?> reference) {
        if (stopping.get()) {
            return;
        }
        boolean ready = Boolean.TRUE.equals(reference.getProperty("diskhost.ready"));
        String status = String.valueOf(reference.getProperty("diskhost.summary")).replace('\n', ' ');
        if (ready && (!readySent || reloading)) {
            readySent = true;
            reloading = false;
            lastStatus = status;
            send("READY=1\nSTATUS=" + status + "\nMAINPID=" + ProcessHandle.current().pid());
        } else if (!status.equals(lastStatus)) {
            lastStatus = status;
            send("STATUS=" + status);
        }
    }

    /** A reload begins; {@code READY=1} follows once the host's status says ready again. */
    synchronized void reloading() {
        reloading = true;
        long monotonicMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime()); // CLOCK_MONOTONIC on Linux
        send("RELOADING=1\nMONOTONIC_USEC=" + monotonicMicros + "\nSTATUS=reloading the configuration");
    }

    /** The reload's work is done: if the host is ready now, says so. */
    void reloaded(BundleContext context) {
        try {
            ServiceReference<?>[] present = context.getServiceReferences((String) null, HOST_STATUS_FILTER);
            if (present != null) {
                hostStatus(present[0]);
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            // the framework is stopping
        }
    }

    /** The stop begins: said once, before the disks drain. */
    void stopping() {
        if (stopping.compareAndSet(false, true)) {
            send("STOPPING=1\nSTATUS=stopping: draining and closing every disk");
        }
    }

    /**
     * Pings the watchdog every half {@code WATCHDOG_USEC} while {@code alive} says so, if systemd asks for it (and
     * {@code WATCHDOG_PID}, when set, is this process).
     */
    void startWatchdog(Map<String, String> environment, java.util.function.BooleanSupplier alive) {
        String usec = environment.get("WATCHDOG_USEC");
        String pid = environment.get("WATCHDOG_PID");
        if (usec == null || (pid != null && !pid.equals(String.valueOf(ProcessHandle.current().pid())))) {
            return;
        }
        long periodMillis;
        try {
            periodMillis = Math.max(1, Long.parseLong(usec.trim()) / 2000);
        } catch (NumberFormatException e) {
            LOG.warning(() -> "WATCHDOG_USEC is not a number: " + usec + "; no watchdog pings");
            return;
        }
        Thread.ofPlatform().daemon().name("diskhost-watchdog").start(() -> {
            while (alive.getAsBoolean() && !stopping.get()) {
                send("WATCHDOG=1");
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        LOG.info(() -> "systemd watchdog: pinging every " + periodMillis + " ms");
    }

    private void send(String message) {
        try {
            UnixDatagram.send(socket, message.getBytes(StandardCharsets.UTF_8));
        } catch (ErrnoException | IllegalStateException e) {
            if (warned.compareAndSet(false, true)) { // once: a socket that is gone stays gone
                LOG.warning(() -> "cannot notify systemd at " + socket + ": " + e.getMessage());
            }
        }
    }
}
