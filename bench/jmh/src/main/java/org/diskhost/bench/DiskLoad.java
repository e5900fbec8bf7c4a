package org.diskhost.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.host.core.Json;

/**
 * A load generator for one disk, in the JVM: keeps exactly {@code --qd} requests in flight through the {@link Disk}
 * API, as a frontend does, and prints one line of JSON with the IOPS, the throughput and the latency percentiles, as
 * fio reports them for a fixed queue depth.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/jmh/target/classes:$(cat bench/jmh/target/classpath.txt) \
 *     org.diskhost.bench.DiskLoad --disk '{"kind":"file","path":"/x/bench.img","engine":"uring","direct":true}' \
 *     --rw randread --bs 4k --qd 32 --runtime 15 --ramp 2
 * </pre>
 *
 * <p>The disk is resolved from its spec (a {@code disks} entry of the host's configuration) by the resolvers that
 * {@link java.util.ServiceLoader} finds on the class path, read-only for reads. Each of the {@code qd} slots owns one
 * buffer of native memory aligned to 4096 bytes, allocated once (filled with random bytes for writes), and issues its
 * next request from the completion of the previous one: no thread per request, and the completion thread (the
 * io_uring thread of a {@code file} disk) only records the latency and submits. Random offsets are uniform over the
 * disk, aligned to the block size; sequential patterns are one stream shared by the slots, as in fio, wrapping at the
 * end of the disk.
 *
 * <p>A request counts when it completes within {@code runtime} seconds after the {@code ramp}; its latency runs from
 * just before the {@code Disk} call to its completion (fio's {@code lat}). Exit status: 0 with the JSON line on
 * standard output (failed requests are counted in {@code errors}); 2 for bad arguments; 3 when no resolver of the
 * disk's kind is on the class path; 1 for any other failure.
 */
public final class DiskLoad {
    static final int ALIGNMENT = 4096;
    static final int EXIT_USAGE = 2;
    static final int EXIT_NO_KIND = 3;

    private DiskLoad() {
    }

    /** What the requests do, named as fio names them. */
    enum Pattern {
        RANDREAD("randread", false, true),
        READ("read", false, false),
        RANDWRITE("randwrite", true, true),
        WRITE("write", true, false);

        final String fioName;
        final boolean write;
        final boolean random;

        Pattern(String fioName, boolean write, boolean random) {
            this.fioName = fioName;
            this.write = write;
            this.random = random;
        }

        static Pattern of(String name) {
            for (Pattern p : values()) {
                if (p.fioName.equals(name)) {
                    return p;
                }
            }
            throw new UsageException("--rw must be randread, read, randwrite or write, got \"" + name + "\"");
        }
    }

    /** A bad command line; the message says which argument and why. */
    static final class UsageException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /**
     * The command line.
     *
     * @param disk the disk spec, as a {@code disks} entry of the host's configuration
     * @param pattern the access pattern
     * @param blockSize bytes per request
     * @param queueDepth requests in flight
     * @param runtimeNanos how long requests are measured, after the ramp
     * @param rampNanos how long requests run unmeasured first
     */
    record Options(Map<String, Object> disk, Pattern pattern, int blockSize, int queueDepth, long runtimeNanos,
            long rampNanos) {

        static final String USAGE = """
                usage: DiskLoad --disk JSON [--rw randread|read|randwrite|write] [--bs SIZE] [--qd N]
                                [--runtime SECONDS] [--ramp SECONDS]
                  --disk     a disk spec as in the host configuration's "disks", e.g.
                             {"kind":"file","path":"/x/bench.img","engine":"uring","direct":true}
                  --rw       access pattern (default randread)
                  --bs       bytes per request: 4096, 4k, 1M (binary units; default 4k)
                  --qd       requests kept in flight (default 1)
                  --runtime  measured seconds (default 15)
                  --ramp     unmeasured seconds before (default 2)""";

        static Options parse(String... args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (!List.of("--disk", "--rw", "--bs", "--qd", "--runtime", "--ramp").contains(name)) {
                    throw new UsageException("unknown argument \"" + name + "\"");
                }
                if (i + 1 == args.length) {
                    throw new UsageException(name + " needs a value");
                }
                if (values.put(name, args[++i]) != null) {
                    throw new UsageException(name + " is given twice");
                }
            }
            String diskJson = values.get("--disk");
            if (diskJson == null) {
                throw new UsageException("--disk is required");
            }
            Map<String, Object> disk;
            try {
                disk = Json.parseObject(diskJson);
            } catch (Json.ParseException e) {
                throw new UsageException("--disk is not a JSON object: " + e.getMessage());
            }
            Pattern pattern = Pattern.of(values.getOrDefault("--rw", "randread"));
            long blockSize = size(values.getOrDefault("--bs", "4k"));
            if (blockSize < 512 || blockSize > (1 << 30) || blockSize % 512 != 0) {
                throw new UsageException("--bs must be a multiple of 512 bytes up to 1 GiB, got " + blockSize);
            }
            int queueDepth = integer("--qd", values.getOrDefault("--qd", "1"));
            if (queueDepth < 1 || queueDepth > 4096) {
                throw new UsageException("--qd must be between 1 and 4096, got " + queueDepth);
            }
            long runtime = nanos("--runtime", values.getOrDefault("--runtime", "15"));
            if (runtime <= 0) {
                throw new UsageException("--runtime must be positive");
            }
            long ramp = nanos("--ramp", values.getOrDefault("--ramp", "2"));
            return new Options(disk, pattern, (int) blockSize, queueDepth, runtime, ramp);
        }

        /** Bytes from {@code 4096}, {@code 4k}, {@code 4KiB}, {@code 1M}, {@code 1g}: binary units, as fio reads them. */
        static long size(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            if (t.endsWith("ib")) {
                t = t.substring(0, t.length() - 2);
            } else if (t.endsWith("b")) {
                t = t.substring(0, t.length() - 1);
            }
            int shift = 0;
            if (!t.isEmpty()) {
                switch (t.charAt(t.length() - 1)) {
                    case 'k' -> shift = 10;
                    case 'm' -> shift = 20;
                    case 'g' -> shift = 30;
                    default -> { }
                }
            }
            String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
            try {
                long n = Long.parseLong(digits);
                if (n <= 0 || n > (Long.MAX_VALUE >> shift)) {
                    throw new NumberFormatException();
                }
                return n << shift;
            } catch (NumberFormatException e) {
                throw new UsageException("--bs must be a positive size such as 4096, 4k or 1M, got \"" + text + "\"");
            }
        }

        private static int integer(String name, String text) {
            try {
                return Integer.parseInt(text.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(name + " must be a whole number, got \"" + text + "\"");
            }
        }

        private static long nanos(String name, String text) {
            double seconds;
            try {
                seconds = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(name + " must be a number of seconds, got \"" + text + "\"");
            }
            if (!(seconds >= 0 && seconds <= 86_400)) {
                throw new UsageException(name + " must be between 0 and 86400 seconds, got " + text);
            }
            return Math.round(seconds * 1e9);
        }
    }

    /** Latencies in nanoseconds; one slot appends at a time (its requests follow one another). */
    static final class Latencies {
        private long[] values = new long[1024];
        private int size;

        void add(long nanos) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = nanos;
        }

        /** All of {@code parts} in one sorted array. */
        static long[] sorted(List<Latencies> parts) {
            long[] all = new long[parts.stream().mapToInt(p -> p.size).sum()];
            int at = 0;
            for (Latencies p : parts) {
                System.arraycopy(p.values, 0, all, at, p.size);
                at += p.size;
            }
            Arrays.sort(all);
            return all;
        }
    }

    /**
     * The {@code percent} percentile of {@code sorted} by the nearest-rank method: the smallest value that at least
     * {@code percent}% of the values do not exceed. Empty: -1.
     */
    static long percentile(long[] sorted, double percent) {
        if (sorted.length == 0) {
            return -1;
        }
        // Less a hair, so that 99.9% of 1000 values is rank 999 despite rounding in the product.
        long rank = (long) Math.ceil(percent / 100 * sorted.length - 1e-9);
        return sorted[(int) Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    /**
     * The result line for the requests whose latencies are {@code sortedNanos}, completed in {@code seconds}, and
     * {@code errors} failed ones. Without a completed request the latencies are null.
     */
    static Map<String, Object> summary(Options options, long[] sortedNanos, double seconds, long errors) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", options.disk().get("kind"));
        out.put("rw", options.pattern().fioName);
        out.put("bs", options.blockSize());
        out.put("qd", options.queueDepth());
        out.put("seconds", round(seconds, 3));
        out.put("ios", sortedNanos.length);
        double iops = sortedNanos.length / seconds;
        out.put("iops", round(iops, 1));
        out.put("mib_s", round(iops * options.blockSize() / (1 << 20), 1));
        boolean any = sortedNanos.length > 0;
        out.put("mean_us", any ? round(Arrays.stream(sortedNanos).average().orElseThrow() / 1000, 1) : null);
        out.put("p50_us", any ? round(percentile(sortedNanos, 50) / 1000.0, 1) : null);
        out.put("p99_us", any ? round(percentile(sortedNanos, 99) / 1000.0, 1) : null);
        out.put("p99.9_us", any ? round(percentile(sortedNanos, 99.9) / 1000.0, 1) : null);
        out.put("errors", errors);
        return out;
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (UsageException e) {
            System.err.println("DiskLoad: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        StandaloneResolution resolution = StandaloneResolution.fromServiceLoader();
        Object kind = options.disk().get("kind");
        if (!resolution.kinds().contains(kind)) {
            System.err.println("DiskLoad: no resolver of kind " + Json.write(kind) + " on the class path (there are: "
                    + String.join(", ", resolution.kinds().stream().sorted().toList()) + ")");
            System.exit(EXIT_NO_KIND);
            return;
        }
        try (ResolvedChain chain = resolution.resolve("load", options.disk(), !options.pattern().write).join()) {
            System.out.println(Json.write(new DiskLoad.Run(chain.disk(), options).run()));
        } catch (RuntimeException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            System.err.println("DiskLoad: " + cause);
            System.exit(1);
        }
    }

    /** One run on an open disk. */
    static final class Run {
        private final Disk disk;
        private final Options options;
        private final int sectorShift;
        private final long blocks;
        private final AtomicLong sequential = new AtomicLong();
        private final LongAdder errors = new LongAdder();
        private final AtomicReference<Throwable> firstError = new AtomicReference<>();
        private final CountDownLatch stopped;
        private long rampEnd;
        private long end;

        Run(Disk disk, Options options) {
            this.disk = disk;
            this.options = options;
            if (options.blockSize() % disk.sectorSize() != 0) {
                throw new IllegalArgumentException("--bs " + options.blockSize() + " is not a multiple of the disk's "
                        + disk.sectorSize() + "-byte sectors");
            }
            this.sectorShift = disk.sectorShift();
            this.blocks = (disk.sectorCount() << sectorShift) / options.blockSize();
            if (blocks == 0) {
                throw new IllegalArgumentException("the disk (" + (disk.sectorCount() << sectorShift)
                        + " bytes) is smaller than one block of " + options.blockSize() + " bytes");
            }
            this.stopped = new CountDownLatch(options.queueDepth());
        }

        /** One request in flight at a time, from its own buffer. */
        private final class Slot {
            final MemorySegment memory;
            final RequestBuffers buffers;
            final SplittableRandom random;
            final Latencies latencies = new Latencies();
            long started;

            Slot(Arena arena, SplittableRandom random) {
                this.memory = arena.allocate(options.blockSize(), ALIGNMENT);
                this.random = random;
                if (options.pattern().write) {
                    for (long i = 0; i < memory.byteSize(); i += Long.BYTES) {
                        memory.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong() | 1);
                    }
                }
                this.buffers = RequestBuffers.of(memory, !options.pattern().write);
            }

            /** The next request's first sector. */
            long nextSector() {
                long block = options.pattern().random
                        ? random.nextLong(blocks)
                        : Long.remainderUnsigned(sequential.getAndIncrement(), blocks);
                return block * options.blockSize() >>> sectorShift;
            }

            /**
             * Issues requests until the run ends, each from the previous one's completion. A request that is already
             * done when its call returns is followed in this loop, not by recursion.
             */
            void issue() {
                while (true) {
                    long now = System.nanoTime();
                    if (now - end >= 0) {
                        stopped.countDown();
                        return;
                    }
                    long sector = nextSector();
                    started = now;
                    CompletableFuture<Void> request = options.pattern().write
                            ? disk.writeVectored(buffers, sector, false)
                            : disk.readVectored(buffers, sector);
                    if (!request.isDone()) {
                        request.whenComplete((ok, failure) -> {
                            completed(failure);
                            issue();
                        });
                        return;
                    }
                    completed(request.isCompletedExceptionally() ? request.exceptionNow() : null);
                }
            }

            private void completed(Throwable failure) {
                long now = System.nanoTime();
                if (failure != null) {
                    errors.increment();
                    firstError.compareAndSet(null, failure);
                } else if (now - rampEnd >= 0 && now - end < 0) {
                    latencies.add(now - started);
                }
            }
        }

        Map<String, Object> run() {
            SplittableRandom seed = new SplittableRandom();
            try (Arena arena = Arena.ofShared()) {
                List<Slot> slots = new ArrayList<>();
                for (int i = 0; i < options.queueDepth(); i++) {
                    slots.add(new Slot(arena, seed.split()));
                }
                rampEnd = System.nanoTime() + options.rampNanos();
                end = rampEnd + options.runtimeNanos();
                for (Slot slot : slots) {
                    slot.issue();
                }
                try {
                    // A slot stops at the end of the run once its request in flight completes.
                    if (!stopped.await(options.runtimeNanos() + options.rampNanos() + TimeUnit.SECONDS.toNanos(60),
                            TimeUnit.NANOSECONDS)) {
                        throw new IllegalStateException(stopped.getCount() + " requests did not complete within 60 s "
                                + "after the end of the run");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
                Throwable failure = firstError.get();
                if (failure != null) {
                    System.err.println("DiskLoad: " + errors.sum() + " requests failed, the first with " + failure);
                }
                long[] sorted = Latencies.sorted(slots.stream().map(s -> s.latencies).toList());
                return summary(options, sorted, options.runtimeNanos() / 1e9, errors.sum());
            }
        }
    }
}
