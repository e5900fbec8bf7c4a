package org.diskhost.host.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo shell commands in scope {@code diskhost}: {@code disks} lists the disks with their chains and states,
 * {@code inspect NAME} shows a disk's diagnostics, {@code read NAME SECTOR [COUNT]} dumps sectors in hex, and
 * {@code write NAME SECTOR HEX} writes bytes (zero-padded to whole sectors) for diagnosis; {@code swaps [NAME]}
 * shows each disk's swaps (count, pauses, requests held, the bundle revision of each chain element) and what
 * happened to backend bundles lately (updates, rollbacks, failures).
 */
@Component(service = DiskCommands.class, property = {
    "osgi.command.scope=diskhost",
    "osgi.command.function=disks",
    "osgi.command.function=inspect",
    "osgi.command.function=read",
    "osgi.command.function=write",
    "osgi.command.function=kinds",
    "osgi.command.function=swaps",
    "osgi.command.function=upgrade"
})
public final class DiskCommands {
    /** The most a diagnostic read or write transfers. */
    static final int MAX_BYTES = 64 * 1024;

    private final DiskHost host;
    private final BundleContext context;

    @Activate
    public DiskCommands(@Reference DiskHost host, BundleContext context) {
        this.host = host;
        this.context = context;
    }

    /**
     * Upgrades the bundle {@code bundle} (a symbolic name or id) from the jar at {@code jar} (a path or URL) with a
     * single pause of its disks ({@link BackendBundles#replace}, then start). Then waits for the host's verdict: its
     * resolvers are back, or the update failed and was rolled back (or could not be).
     */
    public String upgrade(String bundle, String jar) throws Exception {
        Bundle target = findBundle(bundle);
        java.net.URL url = jar.contains(":") && !jar.startsWith("/") ? java.net.URI.create(jar).toURL()
                : java.nio.file.Path.of(jar).toAbsolutePath().toUri().toURL();
        java.time.Instant since = java.time.Instant.now();
        boolean run;
        try (java.io.InputStream in = url.openStream()) {
            run = BackendBundles.replace(context, target, in);
        }
        String started = "";
        if (run) {
            try {
                target.start();
            } catch (org.osgi.framework.BundleException e) {
                started = " (it failed to start: " + e.getMessage() + ")";
                host.updateFailed(target, "it failed to start: " + e.getMessage());
            }
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
        while (host.watching(target) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<BackendBundles.Event> events = host.bundleHistory();
        StringBuilder out = new StringBuilder("updated " + target.getSymbolicName() + " to " + target.getVersion()
                + started + "\n");
        events.stream().filter(e -> !e.at().isBefore(since) && e.bundle().equals(target.getSymbolicName()))
                .forEach(e -> out.append("  ").append(e.what()).append('\n'));
        return out.toString();
    }

    private Bundle findBundle(String nameOrId) {
        for (Bundle b : context.getBundles()) {
            if (nameOrId.equals(b.getSymbolicName()) || nameOrId.equals(Long.toString(b.getBundleId()))) {
                return b;
            }
        }
        throw new IllegalArgumentException("no bundle '" + nameOrId + "' (give a symbolic name or an id)");
    }

    /** One line per disk: name, state, chain, size, and why it is not ready. */
    public String disks() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-10s %-28s %-16s %s%n", "NAME", "STATE", "CHAIN",
                "SIZE", "REASON"));
        for (HostedDisk disk : host.disks()) {
            Disk d = disk.currentDisk();
            String size = d == null ? "-" : d.sectorCount() + " x " + d.sectorSize();
            out.append(String.format("%-16s %-10s %-28s %-16s %s%n", disk.name, disk.state(), disk.chainDescription(),
                    size, disk.reason()));
        }
        for (Map.Entry<String, String> bad : host.badConfigurations().entrySet()) {
            out.append(String.format("%-16s %-10s %-28s %-16s %s%n", "?", "INVALID", "-", "-", bad.getValue()));
        }
        return out.toString();
    }

    /** The kinds that have a resolver; the layer kinds on a second line. */
    public String kinds() {
        List<String> layerKinds = host.layerKinds();
        return String.join(" ", host.kinds())
                + (layerKinds.isEmpty() ? "" : "\nlayer kinds: " + String.join(" ", layerKinds));
    }

    /** Every disk's swaps, then the recent backend bundle events. */
    public String swaps() {
        StringBuilder out = new StringBuilder();
        for (HostedDisk disk : host.disks()) {
            out.append(swaps(disk));
        }
        out.append("backend bundles:\n");
        List<BackendBundles.Event> history = host.bundleHistory();
        if (history.isEmpty()) {
            out.append("  no updates since the host started\n");
        }
        history.forEach(e -> out.append("  ").append(e).append('\n'));
        return out.toString();
    }

    /** One disk's swaps and chain elements. */
    public String swaps(String name) {
        return swaps(host.disk(name).orElseThrow(() -> unknown(name)));
    }

    private static String swaps(HostedDisk disk) {
        HostedDisk.SwapStats stats = disk.swapStats();
        StringBuilder out = new StringBuilder(String.format("%s: %s, %d swaps, last pause %s ms, max pause %s ms, "
                + "%d requests held%s%n", disk.name, disk.state(), stats.swaps(),
                HostedDisk.millis(stats.lastPauseNanos()), HostedDisk.millis(stats.maxPauseNanos()),
                stats.requestsHeld(), stats.paused() ? " (paused now: " + disk.reason() + ")" : ""));
        for (ChainElement e : stats.elements()) {
            out.append(String.format("  %-32s %s%n", e.place(), e.describe()));
        }
        return out.toString();
    }

    /** The diagnostics tree of a disk. */
    public String inspect(String name) {
        return InspectTree.of(host.disk(name).orElseThrow(() -> unknown(name))).toString();
    }

    public String read(String name, long sector) {
        return read(name, sector, 1);
    }

    /** A hex dump of {@code count} sectors from {@code sector}. */
    public String read(String name, long sector, int count) {
        Disk disk = published(name);
        long bytes = (long) count * disk.sectorSize();
        if (count < 1 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("count must be 1.." + MAX_BYTES / disk.sectorSize());
        }
        // Automatic memory: a request that outlives the timeout below must not write into freed memory.
        MemorySegment data = Arena.ofAuto().allocate(bytes, 4096);
        await(disk.readVectored(RequestBuffers.of(data, true), sector));
        return hexDump(data, sector * disk.sectorSize());
    }

    /** Writes the bytes of {@code hex}, padded with zeros to whole sectors, at {@code sector}. */
    public String write(String name, long sector, String hex) {
        Disk disk = published(name);
        byte[] bytes;
        try {
            bytes = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the data must be hex digits, such as 68656c6c6f");
        }
        long sectors = Math.max(1, (bytes.length + disk.sectorSize() - 1) / disk.sectorSize());
        if (sectors * disk.sectorSize() > MAX_BYTES) {
            throw new IllegalArgumentException("at most " + MAX_BYTES + " bytes");
        }
        MemorySegment data = Arena.ofAuto().allocate(sectors * disk.sectorSize(), 4096);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        await(disk.writeVectored(RequestBuffers.of(data, false), sector, true));
        return "wrote " + sectors + " sector(s) at " + sector + " of " + name;
    }

    private Disk published(String name) {
        return host.publishedDisk(name).orElseThrow(() -> unknown(name));
    }

    private IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("no disk named '" + name + "' is ready (see 'disks')");
    }

    private static void await(java.util.concurrent.CompletableFuture<Void> request) {
        try {
            request.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            DiskError error = DiskError.of(e);
            throw new IllegalStateException("request failed: " + error.message()
                    + (error instanceof DiskError.Io io ? ": " + io.cause().getMessage() : ""));
        }
    }

    static String hexDump(MemorySegment data, long baseOffset) {
        StringBuilder out = new StringBuilder();
        for (long line = 0; line < data.byteSize(); line += 16) {
            out.append(String.format("%012x ", baseOffset + line));
            StringBuilder text = new StringBuilder();
            for (long i = line; i < line + 16 && i < data.byteSize(); i++) {
                byte b = data.get(ValueLayout.JAVA_BYTE, i);
                out.append(String.format(" %02x", b));
                text.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
            }
            out.append("  ").append(text).append('\n');
        }
        return out.toString();
    }
}
