package org.diskhost.paxexam;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import org.ops4j.pax.exam.Option;

/**
 * Pax Exam options that provision diskhost in a test framework. A downstream test's {@code @Configuration} method
 * returns, for example:
 *
 * <pre>{@code
 * return options(
 *         DiskhostOptions.host(),
 *         DiskhostOptions.backends("file"),
 *         mavenBundle("com.example", "my-backend", "1.0"), // the bundle under test
 *         DiskhostOptions.dataDirectory(Files.createTempDirectory("it")),
 *         junitBundles());
 * }</pre>
 *
 * <p>Where the bundles come from: from a Maven repository ({@code mvn:org.diskhost/ARTIFACT/VERSION}, VERSION being
 * this jar's own version; the OSGi runtime in the versions diskhost was built with), unless the system property
 * {@value #BUNDLES_PROPERTY} names a directory: then {@code file:DIRECTORY/ARTIFACT.jar} (jars named without
 * version, as {@code maven-dependency-plugin:copy-dependencies} with {@code stripVersion} writes them). The second
 * form is for builds in which the bundles are not installed in a repository yet, such as diskhost's own
 * integration tests. JUnit's bundles (which run the conformance suite inside the framework) are always the jars
 * of the test class path, so the framework runs the same JUnit as the test.
 *
 * <p>This class runs in the Pax Exam driver, outside the framework. Inside it, {@link HostProbe} and
 * {@link OsgiConformance} (in this jar too, installed by {@link #host()}) configure disks and run the suite.
 */
public final class DiskhostOptions {
    /** System property: a directory of bundle jars named {@code ARTIFACT.jar}, used instead of Maven. */
    public static final String BUNDLES_PROPERTY = "diskhost.bundles";

    /** Framework property of the host: its data directory; relative paths in disk specs resolve against it. */
    public static final String DATA_PROPERTY = "diskhost.data";

    /** Framework property of the host: the JSON configuration file ({@code conf/diskhost.json}'s format). */
    public static final String CONFIG_PROPERTY = "diskhost.config";

    /**
     * Framework property read by this jar's bundle inside the framework: the NBD server's {@code listen} setting,
     * which it puts into configuration {@code org.diskhost.nbd} (see {@link #nbd(String, String)}).
     */
    public static final String NBD_LISTEN_PROPERTY = "diskhost.paxexam.nbd.listen";

    /** Framework property: the NBD server's {@code unixSocket} setting, with {@link #NBD_LISTEN_PROPERTY}. */
    public static final String NBD_UNIX_SOCKET_PROPERTY = "diskhost.paxexam.nbd.unixSocket";

    private static final String GROUP = "org.diskhost";

    /** Where {@code bundles.properties} puts the version of diskhost itself. */
    private static final String DISKHOST_VERSION = "diskhost.version";

    /** The classes whose jars are JUnit's bundles for the conformance runner, in resolution order. */
    private static final List<String> JUNIT_PLATFORM = List.of(
            "org.opentest4j.TestAbortedException",
            "org.junit.platform.commons.JUnitException",
            "org.junit.platform.engine.TestEngine",
            "org.junit.platform.launcher.Launcher",
            "org.junit.jupiter.api.Test",
            "org.junit.jupiter.engine.JupiterTestEngine");

    private static final Properties BUNDLES = load();

    private DiskhostOptions() {
    }

    /**
     * The host: the OSGi runtime it needs (Declarative Services and its dependencies, Configuration Admin),
     * {@code diskhost-api}, {@code diskhost-host-core}, and what a probe uses: this jar ({@link HostProbe},
     * {@link OsgiConformance}), {@code diskhost-testkit} and the JUnit Platform with its Jupiter engine. No
     * backend: add {@link #backends} and the bundles under test; and, as in any Pax Exam test,
     * {@code junitBundles()}.
     */
    public static Option host() {
        List<Option> options = new ArrayList<>();
        for (String runtime : List.of("org.osgi.util.function", "org.osgi.util.promise",
                "org.osgi.service.component", "org.apache.felix.scr", "org.apache.felix.configadmin")) {
            options.add(thirdParty(runtime));
        }
        options.add(diskhostBundle("diskhost-api"));
        for (String className : JUNIT_PLATFORM) {
            options.add(classPathBundle(className));
        }
        options.add(diskhostBundle("diskhost-testkit"));
        options.add(diskhostBundle("diskhost-paxexam"));
        options.add(diskhostBundle("diskhost-host-core"));
        return composite(options.toArray(Option[]::new));
    }

    /**
     * diskhost's own backend bundles, by the name of their directory under {@code backends/}: {@code "file"} is
     * {@code diskhost-backend-file}; {@code "layer-sqlite"} brings its SQLite JDBC driver too. A third party's
     * bundle is added with Pax Exam's own {@code bundle(...)} or {@code mavenBundle(...)}.
     */
    public static Option backends(String... names) {
        List<Option> options = new ArrayList<>();
        for (String name : names) {
            if (name.equals("layer-sqlite")) {
                options.add(thirdParty("sqlite-jdbc"));
            }
            options.add(diskhostBundle("diskhost-backend-" + name));
        }
        return composite(options.toArray(Option[]::new));
    }

    /**
     * The NBD server bundle, without settings: it serves once configuration {@code org.diskhost.nbd} exists, e.g.
     * from an {@code "nbd"} object in {@link #disks(String)}.
     */
    public static Option nbd() {
        return diskhostBundle("diskhost-frontend-nbd");
    }

    /**
     * The NBD server listening on TCP address {@code listen} (such as {@code "127.0.0.1:10809"}), serving every
     * disk. Give the server's settings either this way or as an {@code "nbd"} object in {@link #disks(String)},
     * not both.
     */
    public static Option nbd(String listen) {
        return nbd(listen, null);
    }

    /**
     * The NBD server on TCP address {@code listen} ({@code "none"} for no TCP listener) and, unless
     * {@code unixSocket} is null, on that Unix socket (relative to the data directory).
     */
    public static Option nbd(String listen, String unixSocket) {
        List<Option> options = new ArrayList<>(List.of(nbd(),
                frameworkProperty(NBD_LISTEN_PROPERTY).value(listen)));
        if (unixSocket != null) {
            options.add(frameworkProperty(NBD_UNIX_SOCKET_PROPERTY).value(unixSocket));
        }
        return composite(options.toArray(Option[]::new));
    }

    /** The host's data directory: relative paths in disk specs and the NBD socket path resolve against it. */
    public static Option dataDirectory(Path directory) {
        return frameworkProperty(DATA_PROPERTY).value(directory.toAbsolutePath().toString());
    }

    /**
     * Disks, and other components such as {@code "nbd"}, configured from {@code json} in the format of
     * {@code conf/diskhost.json} ({@code {"disks": {"NAME": SPEC, ...}, "nbd": {...}}}). The text is written to a
     * temporary file that the host's JSON configuration source reads, exactly as the launcher's configuration file;
     * a malformed text is reported in the host's log, with line and column, and configures nothing.
     */
    public static Option disks(String json) {
        try {
            Path file = Files.createTempFile("diskhost-paxexam-", ".json");
            file.toFile().deleteOnExit();
            Files.writeString(file, json);
            return frameworkProperty(CONFIG_PROPERTY).value(file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the disks' configuration file", e);
        }
    }

    /**
     * pax-url's settings for resolving {@code mvn:} bundles from the local repository {@code localRepository}
     * only, never the network: for builds that fetch every artifact beforehand. Maven Central stays the only
     * declared remote repository, so nothing else is looked up.
     */
    public static Option mavenOffline(Path localRepository) {
        return composite(
                systemProperty("org.ops4j.pax.url.mvn.offline").value("true"),
                systemProperty("org.ops4j.pax.url.mvn.useFallbackRepositories").value("false"),
                systemProperty("org.ops4j.pax.url.mvn.repositories")
                        .value("https://repo.maven.apache.org/maven2@id=central"),
                systemProperty("org.ops4j.pax.url.mvn.localRepository")
                        .value(localRepository.toAbsolutePath().toString()));
    }

    /** {@link #mavenOffline(Path)} with the repository {@code maven.repo.local} names, or {@code ~/.m2/repository}. */
    public static Option mavenOffline() {
        String local = System.getProperty("maven.repo.local");
        return mavenOffline(local != null ? Path.of(local)
                : Path.of(System.getProperty("user.home"), ".m2", "repository"));
    }

    /**
     * One of diskhost's bundles by artifact ID (such as {@code "diskhost-backend-file"}): from the directory
     * {@value #BUNDLES_PROPERTY} names, else from Maven in this jar's version.
     */
    public static Option diskhostBundle(String artifactId) {
        return fromDirectory(artifactId).orElse(mavenBundle(GROUP, artifactId, BUNDLES.getProperty(DISKHOST_VERSION)));
    }

    /** A bundle of the runtime listed in {@code bundles.properties}, from the bundle directory or from Maven. */
    private static Option thirdParty(String artifactId) {
        String coordinates = BUNDLES.getProperty(artifactId);
        if (coordinates == null) {
            throw new IllegalArgumentException("no coordinates for " + artifactId + " in bundles.properties");
        }
        int colon = coordinates.indexOf(':');
        return fromDirectory(artifactId).orElse(
                mavenBundle(coordinates.substring(0, colon), artifactId, coordinates.substring(colon + 1)));
    }

    private static Optional<Option> fromDirectory(String artifactId) {
        String directory = System.getProperty(BUNDLES_PROPERTY);
        if (directory == null) {
            return Optional.empty();
        }
        Path jar = Path.of(directory, artifactId + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(BUNDLES_PROPERTY + " is " + directory + ", but it has no "
                    + jar.getFileName() + ": copy the bundle there (copy-dependencies with stripVersion), or unset "
                    + "the property to use Maven");
        }
        return Optional.of(bundle(jar.toUri().toString()));
    }

    /** The jar on the test class path that holds {@code className}, as a bundle. */
    private static Option classPathBundle(String className) {
        Class<?> type;
        try {
            type = Class.forName(className, false, DiskhostOptions.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(className + " is not on the test class path: the conformance runner needs"
                    + " junit-jupiter-engine and junit-platform-launcher (dependencies of diskhost-paxexam)", e);
        }
        try {
            Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(className + " comes from " + jar + ", which is not a jar");
            }
            return bundle(jar.toUri().toString());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("the location of " + className + " is not a file", e);
        }
    }

    private static Properties load() {
        Properties properties = new Properties();
        try (InputStream in = DiskhostOptions.class.getResourceAsStream("bundles.properties")) {
            if (in == null) {
                throw new IllegalStateException("bundles.properties is missing from diskhost-paxexam");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }
}
