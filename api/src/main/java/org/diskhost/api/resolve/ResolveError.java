package org.diskhost.api.resolve;

/** Why a disk could not be built from its configuration. Every variant names the disk and the kind. */
public sealed interface ResolveError {

    /** The configured disk's name. */
    String disk();

    /** The kind being resolved. */
    String kind();

    /** A human-readable description naming the disk, the kind and, where it applies, the setting. */
    String message();

    /** No resolver is registered for {@code kind}. */
    record NoResolver(String disk, String kind) implements ResolveError {
        public String message() {
            return "disk '" + disk + "': no resolver for kind '" + kind + "'";
        }
    }

    /** The setting {@code setting} (a dotted path for nested disks) is missing or has a bad value. */
    record ParseError(String disk, String kind, String setting, String problem) implements ResolveError {
        public String message() {
            return "disk '" + disk + "', kind '" + kind + "', setting '" + setting + "': " + problem;
        }
    }

    /** The resolver failed to build the disk, for example because its backing store cannot be opened. */
    record ResolverError(String disk, String kind, String problem) implements ResolveError {
        public String message() {
            return "disk '" + disk + "', kind '" + kind + "': " + problem;
        }
    }
}
