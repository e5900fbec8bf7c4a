package org.diskhost.nativeio.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.LoopDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listener against the real kernel: uevents of a loop device of the test's own (always detached afterwards),
 * real resizes ({@code losetup -c}) and synthetic uevents (written to the device's sysfs {@code uevent} file, tagged
 * with a UUID the kernel sends back as {@code SYNTH_UUID}).
 */
class UeventListenerTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @AfterEach
    void clearProperty() {
        System.clearProperty(UeventListener.PROPERTY);
    }

    /** Skips the test where uevents cannot be received, except under CI=true, whose machines receive them: fails. */
    private static void requireUevents() {
        Optional<String> reason = UeventListener.unavailable();
        if (reason.isPresent()) {
            if ("true".equals(System.getenv("CI"))) {
                fail(reason.get());
            }
            Assumptions.abort(reason.get());
        }
    }

    private static Optional<Thread> thread(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("uevent-" + name))
                .findFirst();
    }

    /** A loop device over a new 1 MiB file of the test's own. */
    private LoopDevice attachLoop() throws IOException, InterruptedException {
        Path file = dir.resolve("backing.img");
        setLength(file, MIB);
        return LoopDevice.over(file).attach();
    }

    private static void setLength(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /** Whether {@code event} is about {@code loop}. */
    private static boolean isAbout(LoopDevice loop, Uevent event) {
        return event.major().equals(OptionalInt.of(loop.major())) && event.minor().equals(OptionalInt.of(loop.minor()));
    }

    /** Tags a synthetic uevent: the kernel sends it back as SYNTH_UUID. */
    private static String trigger(LoopDevice loop) throws IOException {
        String uuid = UUID.randomUUID().toString();
        loop.triggerUevent("change " + uuid);
        return uuid;
    }

    private static Predicate<Uevent> synthetic(String uuid) {
        return e -> e.property("SYNTH_UUID").equals(Optional.of(uuid));
    }

    /** The first event of {@code events} that matches within {@code millis}, or a failure naming what came. */
    private static Uevent await(BlockingQueue<Uevent> events, Predicate<Uevent> wanted, long millis, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Uevent> seen = new ArrayList<>();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            Uevent event = events.poll(left, TimeUnit.NANOSECONDS);
            if (event != null && wanted.test(event)) {
                return event;
            }
            if (event != null) {
                seen.add(event);
            }
        }
        return fail("no " + what + " within " + millis + " ms; saw " + seen);
    }

    @Test
    void aResizeOfALoopDeviceArrives() throws Exception {
        requireUevents();
        BlockingQueue<Uevent> events = new LinkedBlockingQueue<>();
        try (UeventListener listener = UeventListener.open("resize", events::add);
                LoopDevice loop = attachLoop()) {
            assertEquals(7, loop.major(), "loop devices have major 7");
            setLength(loop.file(), 2 * MIB);
            loop.resize(); // the loop driver sends RESIZE=1
            Uevent resize = await(events, e -> e.isBlockResize(7, loop.minor()), 2000, "resize of " + loop.path());
            assertEquals("change", resize.action());
            assertEquals("/devices/virtual/block/" + loop.sysfs().getFileName(), resize.devpath());
            assertEquals(Optional.of(loop.sysfs().getFileName().toString()), resize.property("DEVNAME"));
            assertFalse(resize.isRescan());
        }
    }

    @Test
    void theThreadIsAPlatformDaemonNamedAfterTheListener() throws Exception {
        requireUevents();
        try (UeventListener listener = UeventListener.open("named", e -> { })) {
            Thread thread = thread("named").orElseThrow();
            assertTrue(thread.isDaemon());
            assertFalse(thread.isVirtual());
            assertEquals("UeventListener[named]", listener.toString());
        }
    }

    @Test
    void closeIsPromptWhileNothingArrives() throws Exception {
        requireUevents();
        UeventListener listener = UeventListener.open("idle", e -> { });
        Thread thread = thread("idle").orElseThrow();
        // Wait until the thread blocks in poll: nothing wakes it but close.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (thread.getState() != Thread.State.RUNNABLE || !blockedInPoll(thread)) {
            assertTrue(System.nanoTime() < deadline, "the thread never reached poll: " + thread.getState());
            Thread.sleep(10);
        }
        long start = System.nanoTime();
        listener.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < 1000, "close took " + millis + " ms");
        assertFalse(thread.isAlive());
        assertEquals(Optional.empty(), thread("idle"));
        listener.close(); // twice is fine
        assertEquals("UeventListener[idle, closed]", listener.toString());
    }

    /** Whether the thread's stack shows it in the listener's poll (a downcall from run, not yet in the handler). */
    private static boolean blockedInPoll(Thread thread) {
        return List.of(thread.getStackTrace()).stream().anyMatch(f -> f.getClassName().equals(Linux.class.getName())
                && f.getMethodName().equals("poll"));
    }

    @Test
    void aThrowingHandlerDoesNotStopLaterEvents() throws Exception {
        requireUevents();
        BlockingQueue<Uevent> events = new LinkedBlockingQueue<>();
        try (LoopDevice loop = attachLoop();
                UeventListener listener = UeventListener.open("throwing", e -> {
                    if (isAbout(loop, e)) {
                        events.add(e);
                        throw new IllegalStateException("a handler's bug");
                    }
                })) {
            String first = trigger(loop);
            await(events, synthetic(first), 2000, "first synthetic uevent");
            String second = trigger(loop);
            await(events, synthetic(second), 2000, "synthetic uevent after the handler threw");
            assertTrue(thread("throwing").orElseThrow().isAlive());
        }
    }

    @Test
    void aHandlerMayCloseItsOwnListener() throws Exception {
        requireUevents();
        AtomicReference<UeventListener> self = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        try (LoopDevice loop = attachLoop()) {
            UeventListener listener = UeventListener.open("self", e -> {
                if (isAbout(loop, e)) {
                    self.get().close();
                    closed.countDown();
                }
            });
            self.set(listener);
            Thread thread = thread("self").orElseThrow();
            trigger(loop);
            assertTrue(closed.await(2, TimeUnit.SECONDS));
            thread.join(1000);
            assertFalse(thread.isAlive());
            listener.close();
        }
    }

    @Test
    void onlyTheKernelIsHeard() throws Exception {
        requireUevents();
        BlockingQueue<Uevent> events = new LinkedBlockingQueue<>();
        try (LoopDevice loop = attachLoop();
                UeventListener listener = UeventListener.open("kernel-only", e -> {
                    if (isAbout(loop, e)) {
                        events.add(e);
                    }
                })) {
            // A root process may send to the kernel's group: a forged resize of this very device, marked FORGED=1.
            String forged = "change@/devices/virtual/block/" + loop.sysfs().getFileName()
                    + "\0ACTION=change\0SUBSYSTEM=block\0RESIZE=1\0MAJOR=" + loop.major() + "\0MINOR=" + loop.minor()
                    + "\0FORGED=1\0";
            ExternalTools.ok(dir, "/usr/bin/python3", "-c", """
                    import socket, sys
                    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
                    s.bind((0, 0))
                    s.sendto(sys.argv[1].encode().replace(b'|', b'\\0'), (0, 1))
                    """, forged.replace('\0', '|'));
            // The kernel's own event, sent after the forged one, arrives; the forged one never does.
            String uuid = trigger(loop);
            await(events, synthetic(uuid), 2000, "synthetic uevent");
            assertTrue(listener.foreign() >= 1, "foreign datagrams dropped: " + listener.foreign());
            assertTrue(events.stream().noneMatch(e -> e.property("FORGED").isPresent()), events.toString());
        }
    }

    @Test
    void anOverrunIsSurvived() throws Exception {
        requireUevents();
        BlockingQueue<Uevent> events = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        try (LoopDevice loop = attachLoop();
                // The smallest receive buffer the kernel allows, and a handler that holds up the thread (against its
                // contract) while a burst arrives: the kernel drops uevents and reports ENOBUFS.
                UeventListener listener = UeventListener.open("overrun", e -> {
                    if (isAbout(loop, e)) {
                        events.add(e);
                        awaitQuietly(release);
                    }
                }, 1)) {
            String first = trigger(loop);
            await(events, synthetic(first), 2000, "first synthetic uevent");
            for (int i = 0; i < 100; i++) {
                trigger(loop);
            }
            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (listener.overruns() == 0) {
                assertTrue(System.nanoTime() < deadline, "no overrun reported");
                Thread.sleep(10);
            }
            // Until the listener has emptied its queue the kernel still counts the socket congested and drops what it
            // sends: retry until one arrives.
            Set<String> after = new HashSet<>();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            Uevent later = null;
            while (later == null && System.nanoTime() < deadline) {
                after.add(trigger(loop));
                later = events.poll(100, TimeUnit.MILLISECONDS);
                while (later != null && !after.contains(later.property("SYNTH_UUID").orElse(""))) {
                    later = events.poll(100, TimeUnit.MILLISECONDS);
                }
            }
            assertNotNull(later, "no uevent after the overrun");
            assertTrue(thread("overrun").orElseThrow().isAlive());
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void thePropertySwitchesUeventsOff() {
        System.setProperty(UeventListener.PROPERTY, "off");
        assertEquals(Optional.of("switched off by the system property diskhost.uevents=off"),
                UeventListener.unavailable());
        IOException e = assertThrows(IOException.class, () -> UeventListener.open("off", ev -> { }));
        assertEquals("kernel uevents: switched off by the system property diskhost.uevents=off", e.getMessage());
        assertEquals(Optional.empty(), thread("off"));

        System.setProperty(UeventListener.PROPERTY, "maybe");
        assertEquals(Optional.of("the system property diskhost.uevents=maybe is neither auto nor off"),
                UeventListener.unavailable());

        System.setProperty(UeventListener.PROPERTY, " AUTO ");
        Optional<String> auto = UeventListener.unavailable();
        assertFalse(auto.isPresent() && auto.get().contains(UeventListener.PROPERTY), auto.toString());
        System.clearProperty(UeventListener.PROPERTY);
        assertEquals(auto, UeventListener.unavailable());
    }

    @Test
    void refusalsSayWhy() {
        String socket = "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)";
        assertEquals(socket + " refused: Operation not permitted (errno 1); a seccomp filter or security module"
                + " forbids it, or this network namespace does not offer kernel uevents",
                UeventListener.refusal(socket, Errno.EPERM));
        assertTrue(UeventListener.refusal(socket, Errno.EAFNOSUPPORT).endsWith(
                "(errno 97); this kernel or network namespace offers no uevent netlink"));
        assertEquals("bind refused: No buffer space available (errno 105)",
                UeventListener.refusal("bind", Errno.ENOBUFS));
    }

    @Test
    void withoutNativeAccessTheReasonSaysSo() throws Exception {
        String launcher = ProcessHandle.current().info().command().orElseThrow();
        Process probe = new ProcessBuilder(launcher, "--illegal-native-access=deny", "-cp",
                System.getProperty("java.class.path"), UeventsMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, probe.waitFor(), out);
        assertTrue(out.startsWith("no native access (java.lang.IllegalCallerException"), out);
        assertTrue(out.contains("--enable-native-access"), out);
    }
}
