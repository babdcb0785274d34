package dev.jlens.reliability;

import dev.jlens.api.Experiment;
import dev.jlens.api.EncoderKind;
import dev.jlens.study.ConceptExperiment;
import dev.jlens.study.ExperimentConfig;

import java.nio.file.Path;

/**
 * Child-JVM body of {@link KillAndResumeTest}: runs the concept experiment, printing each progress step
 * ("P stage done total") and pausing on it, so the parent can SIGKILL it at a known point.
 * Args: model coarse fine target control out cache pauseMillis.
 */
public final class ExperimentChildMain {
    static ExperimentConfig config(Path model, Path coarse, Path fine, Path target, Path control, Path out, Path cache) {
        return new ExperimentConfig(model, coarse.toString(), fine.toString(), out, Experiment.Settings.builder().targetPrompts(target)
                .controlPrompts(control).anchors(5).fineCandidates(30).minActivation(0.0).permutations(200).seed(99)
                .encoder(EncoderKind.VECTOR).contextTokens(256).promptsPerBatch(4).threads(2).cacheDir(cache).build());
    }

    public static void main(String[] a) throws Exception {
        long pause = Long.parseLong(a[7]);
        ConceptExperiment.run(config(Path.of(a[0]), Path.of(a[1]), Path.of(a[2]), Path.of(a[3]), Path.of(a[4]), Path.of(a[5]), Path.of(a[6])),
                (stage, done, total) -> {
                    System.out.println("P " + stage.replace(' ', '_') + " " + done + " " + total);
                    System.out.flush();
                    try {
                        Thread.sleep(pause);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        System.out.println("DONE");
    }
}
