package dev.jlens.api;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.attribute.ModuleAttribute;
import java.lang.classfile.attribute.ModuleExportInfo;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The exported surface: the module exports dev.jlens.api and dev.jlens.errors (the API's exception types) alone, and
 * nothing a caller can see in them (public and protected signatures, record components, supertypes, thrown exceptions,
 * generic arguments) names a type the module does not export, the condition javac's -Xlint:exports reports as
 * "exported type not accessible". dev.jlens.errors depends on nothing but java.base, so every layer can extend it.
 */
class ApiSurfaceTest {
    @Test
    void moduleExportsOnlyTheApi() throws Exception {
        Path info = classesRoot().resolve("module-info.class");
        ModuleAttribute m = ClassFile.of().parse(Files.readAllBytes(info)).findAttribute(java.lang.classfile.Attributes.module()).orElseThrow();
        List<String> exports = m.exports().stream().map(ModuleExportInfo::exportedPackage).map(p -> p.name().stringValue()).toList();
        assertEquals(List.of("dev/jlens/api", "dev/jlens/errors"), exports);
    }

    @Test
    void theErrorsPackageDependsOnNothingOfOurs() throws Exception {
        Set<String> used = new TreeSet<>();
        List<String> classes = new ArrayList<>();
        try (Stream<Path> s = Files.list(classesRoot().resolve("dev/jlens/errors"))) {
            for (Path p : s.sorted().toList()) {
                if (!p.getFileName().toString().endsWith(".class")) continue;
                classes.add(p.getFileName().toString());
                var cf = ClassFile.of().parse(Files.readAllBytes(p));
                for (var e : cf.constantPool())
                    if (e instanceof java.lang.classfile.constantpool.ClassEntry c) used.add(c.asInternalName());
            }
        }
        assertTrue(classes.containsAll(List.of("InvalidFileException.class", "InvalidModelFileException.class", "NativeException.class")), classes.toString());
        for (String u : used) assertTrue(u.startsWith("java/") || u.startsWith("dev/jlens/errors/") || u.startsWith("[Ljava/"), "dev.jlens.errors uses " + u);
        // and the internal layers' own types are subtypes of the exported ones
        assertTrue(dev.jlens.errors.InvalidFileException.class.isAssignableFrom(dev.jlens.formats.FormatException.class));
        assertTrue(dev.jlens.errors.NativeException.class.isAssignableFrom(dev.jlens.llama.LlamaException.class));
        assertTrue(dev.jlens.errors.InvalidModelFileException.class.isAssignableFrom(dev.jlens.llama.InvalidModelException.class));
    }

    @Test
    void publicSignaturesUseOnlyExportedTypes() throws Exception {
        List<Class<?>> types = publicApiTypes();
        assertTrue(types.stream().map(Class::getSimpleName).toList().containsAll(List.of("LensModel", "Experiment", "SteeringStudy",
                "CaptureFolder", "CodesFolder", "Toys", "ModelInfo", "ProgressListener", "Failures", "Prompts")), types.toString());
        Set<String> leaks = new TreeSet<>();
        for (Class<?> c : types) leaks.addAll(leaks(c, ApiSurfaceTest::visible));
        for (Class<?> c : List.of(dev.jlens.errors.InvalidFileException.class, dev.jlens.errors.InvalidModelFileException.class,
                dev.jlens.errors.NativeException.class)) leaks.addAll(leaks(c, ApiSurfaceTest::visible));
        assertTrue(leaks.isEmpty(), "non-exported types in the public API: " + leaks);
    }

    @Test
    void theCheckFindsALeak() {
        // Bridge is package-private; its method returns the internal Progress: checked as if it were public
        Set<String> found = leaks(Bridge.class, m -> true);
        assertTrue(found.stream().anyMatch(l -> l.startsWith("dev.jlens.util.Progress in ")), found.toString());
        assertEquals(Set.of(), leaks(Bridge.class, ApiSurfaceTest::visible));
    }

    /** Every type in {@code c}'s supertypes and {@code shown} members outside java.* and dev.jlens.api, with where it was seen. */
    static Set<String> leaks(Class<?> c, java.util.function.Predicate<Member> shown) {
        Set<String> out = new TreeSet<>();
        check(c.getGenericSuperclass(), c + " extends", out);
        for (Type t : c.getGenericInterfaces()) check(t, c + " implements", out);
        for (Field f : c.getDeclaredFields()) if (shown.test(f)) check(f.getGenericType(), f.toString(), out);
        List<Executable> ex = new ArrayList<>(List.of(c.getDeclaredConstructors()));
        ex.addAll(List.of(c.getDeclaredMethods()));
        for (Executable e : ex) {
            if (!shown.test(e) || e.isSynthetic()) continue;
            for (Type t : e.getGenericParameterTypes()) check(t, e.toString(), out);
            for (Type t : e.getGenericExceptionTypes()) check(t, e.toString(), out);
            if (e instanceof java.lang.reflect.Method m) check(m.getGenericReturnType(), e.toString(), out);
        }
        if (c.isRecord()) for (RecordComponent rc : c.getRecordComponents()) check(rc.getGenericType(), c + "." + rc.getName(), out);
        return out;
    }

    private static boolean visible(Member m) {
        return Modifier.isPublic(m.getModifiers()) || Modifier.isProtected(m.getModifiers());
    }

    private static void check(Type t, String where, Set<String> out) {
        switch (t) {
            case null -> { }
            case Class<?> k when k.isArray() -> check(k.getComponentType(), where, out);
            case Class<?> k when k.isPrimitive() -> { }
            case Class<?> k -> {
                String p = k.getPackageName();
                if (!p.equals("java") && !p.startsWith("java.") && !p.equals("dev.jlens.api") && !p.equals("dev.jlens.errors"))
                    out.add(k.getName() + " in " + where);
            }
            case ParameterizedType p -> {
                check(p.getRawType(), where, out);
                for (Type a : p.getActualTypeArguments()) check(a, where, out);
            }
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) check(b, where, out);
                for (Type b : w.getLowerBounds()) check(b, where, out);
            }
            case TypeVariable<?> v -> { for (Type b : v.getBounds()) check(b, where, out); }
            case GenericArrayType g -> check(g.getGenericComponentType(), where, out);
            default -> fail("unexpected type " + t);
        }
    }

    /** Public top-level types of dev.jlens.api and their public nested types, from the compiled classes. */
    private static List<Class<?>> publicApiTypes() throws IOException, URISyntaxException, ClassNotFoundException {
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(classesRoot().resolve("dev/jlens/api"))) {
            for (Path p : s.sorted().toList()) {
                String f = p.getFileName().toString();
                if (!f.endsWith(".class") || f.equals("package-info.class")) continue;
                Class<?> c = Class.forName("dev.jlens.api." + f.substring(0, f.length() - 6), false, ApiSurfaceTest.class.getClassLoader());
                if (publiclyReachable(c)) out.add(c);
            }
        }
        return out;
    }

    private static boolean publiclyReachable(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
            if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) return false;
        }
        return true;
    }

    private static Path classesRoot() throws URISyntaxException {
        return Path.of(LensModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
