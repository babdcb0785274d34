package dev.jlens.pipeline;

import java.io.IOException;
import java.nio.file.Path;

/** Turns results into the report files (HTML + PNG figures). */
final class ReportWriter {
    private ReportWriter() {}

    static void write(Path dir, ExperimentResult r) throws IOException {
        // filled in when the report package lands
    }
}
