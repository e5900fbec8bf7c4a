package org.diskhost.api.inspect;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** An inspection captured as an ordered tree; leaves are values, inner nodes are {@code InspectTree}s. */
public final class InspectTree implements Inspector {
    private final Map<String, Object> entries = new LinkedHashMap<>();

    /** Captures {@code subject}'s inspection. */
    public static InspectTree of(Inspectable subject) {
        InspectTree tree = new InspectTree();
        subject.inspect(tree);
        return tree;
    }

    @Override
    public Inspector value(String name, Object value) {
        entries.put(name, value);
        return this;
    }

    @Override
    public Inspector child(String name, Inspectable child) {
        entries.put(name, of(child));
        return this;
    }

    /** The entries in insertion order: leaf values and nested trees. */
    public Map<String, Object> entries() {
        return Collections.unmodifiableMap(entries);
    }

    /** The value at a dotted path, such as {@code "inner.sector_count"}, or {@code null}. */
    public Object get(String path) {
        Object node = this;
        for (String part : path.split("\\.")) {
            if (!(node instanceof InspectTree tree)) {
                return null;
            }
            node = tree.entries.get(part);
        }
        return node;
    }

    /** An indented, line-per-entry rendering. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        render(out, "");
        return out.toString();
    }

    private void render(StringBuilder out, String indent) {
        entries.forEach((name, value) -> {
            out.append(indent).append(name).append(':');
            if (value instanceof InspectTree tree) {
                out.append('\n');
                tree.render(out, indent + "  ");
            } else {
                out.append(' ').append(value == null ? "-" : value).append('\n');
            }
        });
    }
}
