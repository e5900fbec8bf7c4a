package org.diskhost.itests;

import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Runs diskhost shell commands (scope {@code diskhost}) through their command services, as Gogo would: by reflection,
 * so it works from any class space, including a framework the test started itself.
 */
final class ShellCommands {
    private ShellCommands() {
    }

    /** Whether a command of that name is registered. */
    static boolean available(BundleContext context, String function) throws InvalidSyntaxException {
        return references(context, function) != null;
    }

    /** The command's output. */
    static String run(BundleContext context, String function, Object... args) throws Exception {
        ServiceReference<?>[] refs = references(context, function);
        if (refs == null) {
            throw new AssertionError("no diskhost shell command " + function + " is registered");
        }
        Object commands = context.getService(refs[0]);
        for (Method method : commands.getClass().getMethods()) {
            if (method.getName().equals(function) && method.getParameterCount() == args.length) {
                return (String) method.invoke(commands, args);
            }
        }
        throw new AssertionError("no command " + function + "/" + args.length);
    }

    /** Runs the command until its output contains {@code expected} (30 s at most); returns the output. */
    static String await(BundleContext context, String expected, String function, Object... args) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String out = "(no diskhost shell command " + function + ")";
        do {
            if (available(context, function)) {
                out = run(context, function, args);
                if (out.contains(expected)) {
                    return out;
                }
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected \"" + expected + "\" in:\n" + out);
    }

    private static ServiceReference<?>[] references(BundleContext context, String function)
            throws InvalidSyntaxException {
        // All references: the command classes need not be visible to the caller's class space.
        return context.getAllServiceReferences(null,
                "(&(osgi.command.scope=diskhost)(osgi.command.function=" + function + "))");
    }
}
