package dev.jlens.cli;

import dev.jlens.api.LensModel;
import dev.jlens.study.StudyLayeringTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
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
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Architecture rule of issue #9: the command line is a client of the public API. Every compiled class of
 * dev.jlens.cli (nested and synthetic ones included) may refer to dev.jlens types only in dev.jlens.api and
 * dev.jlens.cli. Checked on the class files' constant pools, so imports, fully-qualified names in code, descriptors,
 * generic signatures, lambdas and class-name strings are all caught.
 */
class CliUsesOnlyApiTest {
    /** A dev.jlens name in internal (slash) or binary (dot) form whose first segment after dev.jlens is not api or cli. */
    private static final Pattern FORBIDDEN = Pattern.compile("dev[/.]jlens[/.](?=[A-Za-z0-9_$])(?!(?:api|cli)(?![A-Za-z0-9_$]))");

    @Test
    void cliClassesReferToNoJlensPackageButTheApi() throws Exception {
        List<Path> classes = classFiles(packageDir(Main.class));
        assertTrue(classes.size() >= 13, "expected every command's class file, found " + classes);
        Map<String, Set<String>> violations = new TreeMap<>();
        for (Path c : classes) {
            Set<String> bad = forbiddenReferences(Files.readAllBytes(c));
            if (!bad.isEmpty()) violations.put(c.getFileName().toString(), bad);
        }
        assertTrue(violations.isEmpty(), "dev.jlens.cli must use only dev.jlens.api; found: " + violations);
    }

    @Test
    void theScanSeesImportsAndFullyQualifiedNames() throws Exception {
        // LensModel (api) uses dev.jlens.llama.Model through an import and dev.jlens.llama.Backends fully qualified
        Set<String> api = forbiddenReferences(Files.readAllBytes(packageDir(LensModel.class).resolve("LensModel.class")));
        assertTrue(api.contains("dev/jlens/llama/Model"), api.toString());
        assertTrue(api.contains("dev/jlens/llama/Backends"), api.toString());
        // a class that only names an internal type in a method descriptor and in a Class.forName string
        byte[] synthetic = ClassFile.of().build(ClassDesc.of("dev.jlens.cli.Synthetic"), cb -> cb
                .withMethodBody("m", MethodTypeDesc.of(ConstantDescs.CD_void, ClassDesc.of("dev.jlens.util.Json")),
                        ClassFile.ACC_STATIC, code -> code.ldc("dev.jlens.study.steering.SteeringPlan").pop().return_()));
        assertEquals(Set.of("dev/jlens/util/Json", "dev.jlens.study.steering.SteeringPlan"), forbiddenReferences(synthetic));
        // API and CLI names pass
        byte[] clean = ClassFile.of().build(ClassDesc.of("dev.jlens.cli.Clean"), cb -> cb
                .withMethodBody("m", MethodTypeDesc.of(ConstantDescs.CD_void, ClassDesc.of("dev.jlens.api.Experiment")),
                        ClassFile.ACC_STATIC, code -> code.ldc("dev.jlens.cli.Main").pop().return_()));
        assertEquals(Set.of(), forbiddenReferences(clean));
    }

    /** The dev.jlens names outside dev.jlens.api and dev.jlens.cli that a class file's constant pool mentions. */
    static Set<String> forbiddenReferences(byte[] classFile) {
        // class names, descriptors, signatures and string constants all live in CONSTANT_Utf8 entries
        return StudyLayeringTest.references(classFile, FORBIDDEN);
    }

    private static Path packageDir(Class<?> c) throws URISyntaxException {
        return StudyLayeringTest.packageDir(c);
    }

    private static List<Path> classFiles(Path dir) throws IOException {
        return StudyLayeringTest.classFiles(dir);
    }
}
