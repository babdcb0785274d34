package dev.jlens.study;

import dev.jlens.activations.ActivationSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Architecture rules of issue 15 on the compiled classes' constant pools (imports, fully-qualified names, descriptors,
 * generic signatures, lambdas and class-name strings): the study (dev.jlens.study and its subpackages) refers to no
 * class of the toy (dev.jlens.toy: the command line and the API pick the toy defaults), and the activations layer
 * refers to no class of the study above it.
 */
public class StudyLayeringTest {
    @Test
    void theStudyDoesNotDependOnTheToy() throws Exception {
        List<Path> classes = classFiles(packageDir(ConceptExperiment.class));
        assertTrue(classes.stream().anyMatch(p -> p.toString().contains("steering")), "expected study.steering's classes too: " + classes);
        assertEquals(Map.of(), violations(classes, "dev[/.]jlens[/.]toy\\b"), "dev.jlens.study must not refer to dev.jlens.toy");
    }

    @Test
    void activationsDoNotDependOnTheStudy() throws Exception {
        List<Path> classes = classFiles(packageDir(ActivationSource.class));
        assertTrue(classes.size() >= 5, "expected the activations layer's classes, found " + classes);
        assertEquals(Map.of(), violations(classes, "dev[/.]jlens[/.]study\\b"), "dev.jlens.activations must not refer to dev.jlens.study");
    }

    @Test
    void theScanSeesDescriptorsAndStrings() {
        byte[] synthetic = ClassFile.of().build(ClassDesc.of("dev.jlens.study.Synthetic"), cb -> cb
                .withMethodBody("m", MethodTypeDesc.of(ConstantDescs.CD_void, ClassDesc.of("dev.jlens.toy.ToyDefault")),
                        ClassFile.ACC_STATIC, code -> code.ldc("dev.jlens.toy.planted.PlantedFrance").pop().return_()));
        assertEquals(Set.of("dev/jlens/toy/ToyDefault", "dev.jlens.toy.planted.PlantedFrance"),
                references(synthetic, Pattern.compile("dev[/.]jlens[/.]toy\\b")));
        byte[] clean = ClassFile.of().build(ClassDesc.of("dev.jlens.study.Clean"), cb -> cb
                .withMethodBody("m", MethodTypeDesc.of(ConstantDescs.CD_void, ClassDesc.of("dev.jlens.analysis.PromptSet")),
                        ClassFile.ACC_STATIC, code -> code.ldc("dev.jlens.toyish.Other").pop().return_()));
        assertEquals(Set.of(), references(clean, Pattern.compile("dev[/.]jlens[/.]toy\\b")));
    }

    private static Map<String, Set<String>> violations(List<Path> classes, String forbidden) throws IOException {
        Pattern p = Pattern.compile(forbidden);
        Map<String, Set<String>> out = new TreeMap<>();
        for (Path c : classes) {
            Set<String> bad = references(Files.readAllBytes(c), p);
            if (!bad.isEmpty()) out.put(c.getFileName().toString(), bad);
        }
        return out;
    }

    /** The names matching {@code forbidden} (extended to the whole class name) in a class file's CONSTANT_Utf8 entries. */
    public static Set<String> references(byte[] classFile, Pattern forbidden) {
        Set<String> out = new TreeSet<>();
        for (PoolEntry e : ClassFile.of().parse(classFile).constantPool()) {
            if (!(e instanceof Utf8Entry u)) continue;
            String s = u.stringValue();
            Matcher m = forbidden.matcher(s);
            while (m.find()) {
                int end = m.end();
                while (end < s.length() && (Character.isJavaIdentifierPart(s.charAt(end)) || s.charAt(end) == '/' || s.charAt(end) == '.')) end++;
                out.add(s.substring(m.start(), end));
            }
        }
        return out;
    }

    /** The folder of {@code c}'s package among the compiled classes. */
    public static Path packageDir(Class<?> c) throws URISyntaxException {
        Path root = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(root), "expected compiled classes in a folder, got " + root);
        return root.resolve(c.getPackageName().replace('.', '/'));
    }

    /** Class files under {@code dir}, subpackages included. */
    public static List<Path> classFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".class")).sorted().toList();
        }
    }
}
