package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bundle jar is also a named JPMS module, and the API and file backend work from plain Java. */
class ModulePathIT {
    private static final Path BUNDLES = Path.of(System.getProperty("diskhost.bundles"));

    @TempDir
    Path dir;

    private static ModuleDescriptor descriptor(String jar) {
        ModuleReference module = ModuleFinder.of(BUNDLES.resolve(jar)).findAll().iterator().next();
        assertTrue(!module.descriptor().isAutomatic(), jar + " has a module-info, not an automatic name");
        return module.descriptor();
    }

    @Test
    void theBundlesAreNamedModules() {
        ModuleDescriptor api = descriptor("diskhost-api.jar");
        assertEquals("org.diskhost.api", api.name());
        assertTrue(api.uses().contains("org.diskhost.api.resolve.DiskResolver"));
        assertTrue(api.exports().stream().anyMatch(e -> e.source().equals("org.diskhost.api.buffers")));
        ModuleDescriptor file = descriptor("diskhost-backend-file.jar");
        assertEquals("org.diskhost.backend.file", file.name());
        assertTrue(file.exports().isEmpty(), "a backend exports nothing");
        assertEquals("org.diskhost.backend.file.FileDiskResolver", file.provides().iterator().next().providers()
                .getFirst());
        assertEquals("org.diskhost.host.core", descriptor("diskhost-host-core.jar").name());
        assertEquals("org.diskhost.testkit", descriptor("diskhost-testkit.jar").name());
        ModuleDescriptor launcher = descriptor("diskhost-host-launcher.jar");
        assertTrue(launcher.uses().contains("org.osgi.framework.launch.FrameworkFactory"));
        assertEquals("org.diskhost.launcher.Main", launcher.mainClass().orElseThrow());
    }

    @Test
    void theApiAndTheFileBackendWorkOnTheModulePathWithoutOsgi() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path demo = Path.of(System.getProperty("diskhost.jpms.sources"), "ModulePathDemo.java");
        Path image = dir.resolve("modular.img");
        Process process = new ProcessBuilder(java,
                "--module-path", BUNDLES.resolve("diskhost-api.jar") + ":" + BUNDLES.resolve("diskhost-backend-file.jar"),
                "--add-modules", "org.diskhost.api,org.diskhost.backend.file",
                "--enable-native-access=org.diskhost.backend.file",
                demo.toString(), image.toString()).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        assertTrue(out.contains("api module: org.diskhost.api"), out);
        assertTrue(out.contains("kinds: [file]"), out);
        assertTrue(out.contains("sectors: 2048"), out);
        assertTrue(out.contains("round trip: ok"), out);
        assertTrue(!out.contains("WARNING: A restricted method"), "native access was granted to the module:\n" + out);
        byte[] file = Files.readAllBytes(image);
        assertEquals((byte) 5, file[7 * 512 + 5], "the data is in the file");
    }
}
