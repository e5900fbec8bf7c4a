package org.diskhost.backend.striped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.MemoryDisk;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Test;

/** The settings and the reference's constructor checks, as a user meets them: errors naming the setting. */
class StripedResolverTest {
    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), memory,
            new StripedDiskResolver());

    private static Map<String, Object> member(Object... settings) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", "memory");
        for (int i = 0; i < settings.length; i += 2) {
            spec.put((String) settings[i], settings[i + 1]);
        }
        return spec;
    }

    private static Map<String, Object> striped(List<?> members, Object... settings) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", "striped");
        spec.put("members", members);
        for (int i = 0; i < settings.length; i += 2) {
            spec.put((String) settings[i], settings[i + 1]);
        }
        return spec;
    }

    private ResolvedChain resolve(Map<String, Object> config, boolean readOnly) {
        return resolution.resolve("s", config, readOnly).join();
    }

    private String error(Map<String, Object> config) {
        CompletionException e = assertThrows(CompletionException.class, () -> resolve(config, false));
        return assertInstanceOf(ResolveException.class, e.getCause()).error().message();
    }

    @Test
    void theDefaultChunkIs128KiBAndTheSizeIsAllWholeStripes() {
        // 1000 KiB members hold 7 whole 128 KiB chunks each.
        try (ResolvedChain chain = resolve(striped(List.of(member("sectors", 2000), member("sectors", 2000))),
                false)) {
            StripedDisk disk = (StripedDisk) chain.disk().backend();
            assertEquals(256, disk.layout().chunkSectors());
            assertEquals(2 * 7 * 256, chain.disk().sectorCount());
            assertEquals(List.of("striped", "memory"), List.copyOf(chain.kinds()));
        }
    }

    @Test
    void chunkSizeAndSectorCountAreUsed() {
        try (ResolvedChain chain = resolve(striped(List.of(member(), member(), member()), "chunkSize", "2 KiB",
                "sectorCount", 48), false)) {
            StripedDisk disk = (StripedDisk) chain.disk().backend();
            assertEquals(4, disk.layout().chunkSectors());
            assertEquals(48, chain.disk().sectorCount());
        }
    }

    @Test
    void theMemberListMustBeANonEmptyListOfDisks() {
        assertEquals("disk 's', kind 'striped', setting 'members': missing: required for kind 'striped'",
                error(Map.of("kind", "striped")));
        assertTrue(error(striped(List.of())).startsWith(
                "disk 's', kind 'striped', setting 'members': must be a non-empty list of disks"));
        assertTrue(error(striped(List.of(member(), "b.img"))).startsWith(
                "disk 's', kind 'striped', setting 'members[1]': must be a disk"));
    }

    @Test
    void theChunkSizeMustBeAWholeNumberOfSectors() {
        assertEquals("disk 's', kind 'striped', setting 'chunkSize': must be a non-zero multiple of the members' "
                + "sector size (512 bytes), got 1000", error(striped(List.of(member(), member()), "chunkSize", 1000)));
        assertTrue(error(striped(List.of(member(), member()), "chunkSize", 0)).contains("got 0"));
        assertTrue(error(striped(List.of(member("sectorSize", 4096, "sectors", 64)), "chunkSize", "2K"))
                .contains("sector size (4096 bytes), got 2048"));
        assertTrue(error(striped(List.of(member()), "chunkSize", "lots")).contains("setting 'chunkSize': must be a size"));
    }

    @Test
    void aChunkThatDoesNotFitOnAMemberIsRejected() {
        assertEquals("disk 's', kind 'striped', setting 'chunkSize': must be at most the size of one member "
                + "(131072 bytes), got 262144", error(striped(List.of(member()), "chunkSize", "256K")));
        assertTrue(error(striped(List.of(member("sectors", 100)))).contains("(51200 bytes), got 131072"),
                "the default chunk is checked too");
    }

    @Test
    void membersMustMatchMemberZero() {
        assertEquals("disk 's', kind 'striped', setting 'members[2]': its sector size is 4096, but members[0]'s is "
                + "512 (all members must have the same sector size, sector count and read-only flag)",
                error(striped(List.of(member(), member(), member("sectorSize", 4096)), "chunkSize", 4096)));
        assertTrue(error(striped(List.of(member(), member("sectors", 255)), "chunkSize", 4096))
                .contains("setting 'members[1]': its sector count is 255, but members[0]'s is 256"));
    }

    @Test
    void membersMustAgreeOnReadOnly() {
        DiskResolver readOnlyMemory = new DiskResolver() {
            public String kind() {
                return "ro-memory";
            }

            public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
                return CompletableFuture.completedFuture(
                        Disk.of(MemoryDisk.builder(512, 256).readOnly(true).build()));
            }
        };
        StandaloneResolution mixed = StandaloneResolution.of(Path.of("."), memory, readOnlyMemory,
                new StripedDiskResolver());
        CompletionException e = assertThrows(CompletionException.class, () -> mixed.resolve("s",
                striped(List.of(member(), Map.of("kind", "ro-memory")), "chunkSize", 4096), false).join());
        assertTrue(e.getCause().getMessage().contains(
                "setting 'members[1]': its read-only flag is true, but members[0]'s is false"), e.getMessage());
    }

    @Test
    void theSectorCountMustFitAndBeWholeStripes() {
        List<Map<String, Object>> two = List.of(member(), member()); // 256 sectors each, 8-sector chunks
        assertEquals("disk 's', kind 'striped', setting 'sectorCount': must be at most 512 (the whole stripes the "
                + "members hold), got 528", error(striped(two, "chunkSize", 4096, "sectorCount", 528)));
        assertEquals("disk 's', kind 'striped', setting 'sectorCount': must be a non-zero multiple of 16 (members x "
                + "sectors per chunk), got 100", error(striped(two, "chunkSize", 4096, "sectorCount", 100)));
        assertTrue(error(striped(two, "chunkSize", 4096, "sectorCount", 0)).contains("must be positive, got 0"));
        assertTrue(error(striped(two, "sectorCount", "many")).contains("setting 'sectorCount': must be an integer"));
    }

    @Test
    void unknownSettingsAreRejected() {
        assertTrue(error(striped(List.of(member()), "chunk_size", 4096)).startsWith(
                "disk 's', kind 'striped', setting 'chunk_size': unknown setting for kind 'striped' (known: chunkSize, "
                        + "members, sectorCount)"));
    }

    @Test
    void aMemberErrorNamesTheMember() {
        assertTrue(error(striped(List.of(member(), member("size", 5)))).contains("setting 'members[1].size'"));
        assertEquals("disk 's': no resolver for kind 'nope'", error(striped(List.of(member(), Map.of("kind", "nope")))));
    }

    @Test
    void membersAreResolvedConcurrently() throws Exception {
        List<CompletableFuture<Disk>> pending = new ArrayList<>();
        DiskResolver slow = new DiskResolver() {
            public String kind() {
                return "slow";
            }

            public synchronized CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
                CompletableFuture<Disk> f = new CompletableFuture<>();
                pending.add(f);
                return f;
            }
        };
        StandaloneResolution concurrent = StandaloneResolution.of(Path.of("."), slow, new StripedDiskResolver());
        CompletableFuture<ResolvedChain> chain = concurrent.resolve("s", striped(List.of(Map.of("kind", "slow"),
                Map.of("kind", "slow"), Map.of("kind", "slow")), "chunkSize", 4096), false);
        assertEquals(3, pending.size(), "every member is being resolved before any has finished");
        for (int i = 2; i >= 0; i--) {
            assertFalse(chain.isDone());
            pending.get(i).complete(Disk.of(MemoryDisk.of(512, 64)));
        }
        try (ResolvedChain c = chain.get(10, TimeUnit.SECONDS)) {
            assertEquals(3 * 64, c.disk().sectorCount());
        }
    }

    @Test
    void aReadOnlyChainOpensEveryMemberReadOnly() {
        try (ResolvedChain chain = resolve(striped(List.of(member("id", "r0"), member("id", "r1")), "chunkSize",
                4096), true)) {
            assertTrue(chain.disk().isReadOnly());
            assertTrue(memory.disk("r0").isReadOnly());
            assertTrue(memory.disk("r1").isReadOnly());
        }
    }

    @Test
    void errorsAreResolveErrorsOfKindStriped() {
        CompletionException e = assertThrows(CompletionException.class,
                () -> resolve(striped(List.of(member()), "chunkSize", 3), false));
        ResolveError error = assertInstanceOf(ResolveException.class, e.getCause()).error();
        ResolveError.ParseError parse = assertInstanceOf(ResolveError.ParseError.class, error);
        assertEquals("striped", parse.kind());
        assertEquals("chunkSize", parse.setting());
    }
}
