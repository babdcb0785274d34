/**
 * jlens: layer-12 residual capture and sparse-autoencoder analysis of Gemma 2 on llama.cpp via Panama.
 * Exported: {@code dev.jlens.api} (the library) and {@code dev.jlens.errors} (its exception types, which depend on
 * nothing); the generated bindings ({@code dev.jlens.bindings}), the native layer ({@code dev.jlens.llama}) and
 * everything else are internal. Packages are opened only to the libraries that reflect on them (picocli for the
 * commands, Jackson for JSON records).
 *
 * <p>The library needs Jackson only. The command line ({@code dev.jlens.cli}: picocli) and the report's PNG figures
 * ({@code dev.jlens.report.PngFigures}: JFreeChart, java.desktop) are optional parts of this one module: their
 * dependencies are {@code requires static} here and optional in the POM, so a library user's module graph and
 * dependency tree do not get them. On the module path add {@code --add-modules org.jfree.jfreechart} to have the
 * PNG figures; without it the report is written without them, and says so.
 */
module dev.jlens {
    requires jdk.incubator.vector;
    requires java.management; // heap and memory figures in logs and tests
    requires java.logging; // the CLI sends log records to run.log (dev.jlens.cli.Logs)
    requires com.fasterxml.jackson.databind;
    // the CLI and the PNG figures only (see above)
    requires static java.desktop;
    requires static info.picocli;
    requires static org.jfree.jfreechart;

    exports dev.jlens.api;
    exports dev.jlens.errors;

    opens dev.jlens.cli to info.picocli;
    opens dev.jlens.study to com.fasterxml.jackson.databind;
    opens dev.jlens.study.steering to com.fasterxml.jackson.databind;
    opens dev.jlens.activations to com.fasterxml.jackson.databind;
    opens dev.jlens.util to com.fasterxml.jackson.databind;
    opens dev.jlens.sae to com.fasterxml.jackson.databind;
    opens dev.jlens.analysis to com.fasterxml.jackson.databind;
    opens dev.jlens.toy.planted to com.fasterxml.jackson.databind;
    opens dev.jlens.report to com.fasterxml.jackson.databind;
}
