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
        for (String kind : new String[] {"delay", "striped", "prwrap"}) {
            ModuleDescriptor decorator = descriptor("diskhost-backend-" + kind + ".jar");
            assertEquals("org.diskhost.backend." + kind, decorator.name());
            assertTrue(decorator.exports().isEmpty(), "a backend exports nothing");
            assertEquals("org.diskhost.api.resolve.DiskResolver", decorator.provides().iterator().next().service());
        }
        assertTrue(descriptor("diskhost-backend-delay.jar").requires().stream().anyMatch(r ->
                r.name().equals("org.osgi.service.cm") && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)),
                "Configuration Admin is optional outside OSGi");
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

    @Test
    void theDecoratorsWorkOnTheModulePathWithoutOsgi() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path demo = Path.of(System.getProperty("diskhost.jpms.sources"), "DecoratorModulePathDemo.java");
        String modules = String.join(":", BUNDLES.resolve("diskhost-api.jar").toString(),
                BUNDLES.resolve("diskhost-backend-file.jar").toString(),
                BUNDLES.resolve("diskhost-backend-delay.jar").toString(),
                BUNDLES.resolve("diskhost-backend-striped.jar").toString(),
                BUNDLES.resolve("diskhost-backend-prwrap.jar").toString());
        Process process = new ProcessBuilder(java, "--module-path", modules,
                "--add-modules", "org.diskhost.api,org.diskhost.backend.file,org.diskhost.backend.delay,"
                        + "org.diskhost.backend.striped,org.diskhost.backend.prwrap",
                "--enable-native-access=org.diskhost.backend.file",
                demo.toString(), dir.resolve("a.img").toString(), dir.resolve("b.img").toString())
                .redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        assertTrue(out.contains("kinds: [delay, file, prwrap, striped]"), out);
        assertTrue(out.contains("chain: [delay, prwrap, striped, file]"), out);
        assertTrue(out.contains("sectors: 4096"), out);
        assertTrue(out.contains("round trip: ok"), out);
        assertTrue(out.contains("reservation: WRITE_EXCLUSIVE"), out);
        assertEquals((byte) 1, Files.readAllBytes(dir.resolve("a.img"))[0], "chunk 0 is on the first member");
        assertEquals((byte) 2, Files.readAllBytes(dir.resolve("b.img"))[0], "chunk 1 is on the second member");
    }
}
