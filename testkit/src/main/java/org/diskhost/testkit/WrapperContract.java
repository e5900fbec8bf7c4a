package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Checks that a wrapper overrides every method of the interface it wraps, so that a method added to the API later
 * (with a default meant for backends, such as {@code DiskIo.allocation}) cannot be dropped silently: a hand-written
 * wrapper that inherits such a default answers for itself instead of asking the object it wraps. The host's disk
 * once did exactly that with {@code allocation}, and every NBD export looked fully allocated.
 *
 * <p>A wrapper that deliberately keeps a default lists it as an exemption, with the reason. An exemption that is no
 * longer needed (the wrapper overrides the method after all) is an error too, so the list stays true.
 */
public final class WrapperContract {
    private WrapperContract() {
    }

    /**
     * Fails unless {@code wrapper} (or one of its superclasses) declares every public instance method of
     * {@code contract}, its superinterfaces' included, other than those in {@code exemptions}.
     *
     * @param exemptions method names (or {@code name(ParamType,...)} with simple type names, where a name is
     *        overloaded) mapped to why the wrapper keeps the interface's default or leaves the method abstract
     */
    public static void assertOverridesEveryMethod(Class<?> wrapper, Class<?> contract, Map<String, String> exemptions) {
        if (!contract.isInterface() || !contract.isAssignableFrom(wrapper)) {
            fail(wrapper.getName() + " does not implement the interface " + contract.getName());
        }
        List<String> missing = new ArrayList<>();
        Map<String, String> unused = new TreeMap<>(exemptions);
        for (Method method : contract.getMethods()) {
            if (Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String signature = signature(method);
            boolean exempt = exemptions.containsKey(signature) || exemptions.containsKey(method.getName());
            unused.remove(signature);
            unused.remove(method.getName());
            boolean overridden = declaredByAClass(wrapper, method);
            if (overridden && exempt) {
                missing.add(signature + " is exempted, but " + wrapper.getSimpleName() + " overrides it: drop the"
                        + " exemption");
            } else if (!overridden && !exempt) {
                missing.add(signature + " is not overridden: " + wrapper.getSimpleName() + " inherits "
                        + method.getDeclaringClass().getSimpleName() + "'s "
                        + (method.isDefault() ? "default" : "abstract method"));
            }
        }
        unused.keySet().forEach(name -> missing.add("exemption " + name + " names no method of "
                + contract.getSimpleName()));
        if (!missing.isEmpty()) {
            fail(wrapper.getName() + " must forward every " + contract.getSimpleName() + " method:\n  "
                    + String.join("\n  ", missing));
        }
    }

    private static boolean declaredByAClass(Class<?> wrapper, Method method) {
        for (Class<?> c = wrapper; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                Method declared = c.getDeclaredMethod(method.getName(), method.getParameterTypes());
                if (!Modifier.isAbstract(declared.getModifiers())) {
                    return true;
                }
            } catch (NoSuchMethodException e) {
                // not in this class: look further up
            }
        }
        return false;
    }

    private static String signature(Method method) {
        return method.getName() + Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }
}
