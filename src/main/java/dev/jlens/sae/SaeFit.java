package dev.jlens.sae;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether an SAE belongs to the activations it is given. An SAE decodes only the hook it was trained on: the
 * layer-12 SAEs on layer-11 activations, an SAE of {@code hook_resid_pre} or {@code hook_mlp_out} on a residual
 * capture, or a pretrained-model SAE on an instruction-tuned model (same shapes) all give plausible, wrong numbers.
 *
 * <p>jlens captures the output of a block, TransformerLens' {@code blocks.L.hook_resid_post}. An SAE fits when its
 * hook is that one, or {@code blocks.(L+1).hook_resid_pre}, which is the same tensor (the next block's input).
 * A hook or layer mismatch is refused ({@link #requireCapturePoint}); a model mismatch is only warned about
 * ({@link #checkModel}): the shapes agree, and a user may mean it.
 */
public final class SaeFit {
    private static final System.Logger LOG = System.getLogger(SaeFit.class.getName());
    private static final Pattern HOOK = Pattern.compile("^blocks\\.(\\d{1,9})\\.(.+)$");

    private SaeFit() {}

    /** The hook jlens captures at {@code layer}: {@code blocks.layer.hook_resid_post}. */
    public static String captureHookName(int layer) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        return "blocks." + layer + ".hook_resid_post";
    }

    /**
     * The layer whose output (resid_post) {@code hookName} reads: L for {@code blocks.L.hook_resid_post}, L-1 for
     * {@code blocks.L.hook_resid_pre} with L >= 1; -1 for any other hook (mlp_out, attn_out, resid_mid, hook_z,
     * embeddings, ...) or null.
     */
    public static int residPostLayer(String hookName) {
        if (hookName == null) return -1;
        Matcher m = HOOK.matcher(hookName);
        if (!m.matches()) return -1;
        int layer = Integer.parseInt(m.group(1));
        return switch (m.group(2)) {
            case "hook_resid_post" -> layer;
            case "hook_resid_pre" -> layer >= 1 ? layer - 1 : -1;
            default -> -1;
        };
    }

    /**
     * Throws an IllegalArgumentException naming both hooks when the SAE ({@code sae} names it in the message) does
     * not read {@code blocks.captureLayer.hook_resid_post}. An SAE whose hook is unknown (a bare params.npz) passes:
     * nothing says it is wrong, and the caller records that.
     */
    public static void requireCapturePoint(SaeConfig cfg, String sae, int captureLayer) {
        String capture = captureHookName(captureLayer);
        if (!cfg.hookKnown()) return;
        int reads = residPostLayer(cfg.hookName());
        if (reads == captureLayer) {
            if (!cfg.hookName().equals(capture))
                LOG.log(Level.INFO, "SAE " + sae + " reads " + cfg.hookName() + ", the same tensor as the captured " + capture);
            return;
        }
        String why = reads < 0
                ? "jlens captures the residual stream after a block (hook_resid_post); this SAE was trained on another hook"
                : "the SAE was trained on layer " + reads + "'s output, the activations are layer " + captureLayer + "'s: "
                  + "capture layer " + reads + " or use an SAE of layer " + captureLayer;
        throw new IllegalArgumentException("SAE " + sae + " has hook " + cfg.hookName() + " but the activations are "
                + capture + ": " + why);
    }

    /** How an SAE's model_name compares with the model's GGUF identity. */
    public enum ModelMatch {
        /** model_name is one of the model's names. */
        MATCH,
        /** The model is the instruction-tuned variant of the SAE's (pretrained) model: codes are approximate. */
        INSTRUCTION_TUNED_MODEL,
        /** The names differ. */
        DIFFERENT,
        /** The SAE's model_name or the model's general.* names are unknown. */
        UNKNOWN
    }

    /**
     * The comparison, as recorded in outputs.
     *
     * @param saeModelName the SAE's model_name, or null
     * @param model        the model's general.* keys (may be null when the model file is not at hand)
     */
    public record ModelCheck(String saeModelName, ModelIdentity model, ModelMatch match, String message) {}

    /**
     * Compares {@code cfg.modelName()} with the model's names and logs a warning for {@link ModelMatch#DIFFERENT} and
     * {@link ModelMatch#INSTRUCTION_TUNED_MODEL}. Never throws for a mismatch.
     */
    public static ModelCheck checkModel(SaeConfig cfg, String sae, ModelIdentity model) {
        String saeModel = cfg.modelName();
        List<String> ids = model == null ? List.of() : model.ids();
        ModelCheck c;
        if (saeModel == null || ids.isEmpty()) {
            c = new ModelCheck(saeModel, model, ModelMatch.UNKNOWN, "cannot compare the SAE's model with the model: "
                    + (saeModel == null ? "SAE " + sae + " names no model_name" : "the model's GGUF has no general.name or general.basename"));
            LOG.log(Level.INFO, c.message());
            return c;
        }
        String s = ModelIdentity.normalise(saeModel);
        String shown = "general.name " + quote(model.name()) + ", basename " + quote(model.basename()) + ", size_label "
                + quote(model.sizeLabel()) + ", finetune " + quote(model.finetune());
        if (ids.contains(s)) {
            c = new ModelCheck(saeModel, model, ModelMatch.MATCH, "SAE " + sae + " model_name " + saeModel + " matches the model (" + shown + ")");
            LOG.log(Level.INFO, c.message());
            return c;
        }
        boolean sameBase = ids.stream().anyMatch(id -> ModelIdentity.baseName(id).equals(ModelIdentity.baseName(s)));
        if (sameBase && model.instructionTuned() && !ModelIdentity.instructionTunedName(s)) {
            c = new ModelCheck(saeModel, model, ModelMatch.INSTRUCTION_TUNED_MODEL, "the model is instruction-tuned (" + shown
                    + ") but SAE " + sae + " was trained on the pretrained " + saeModel
                    + ": its codes on this model are approximate (use the base model, or an SAE trained on the -it model)");
        } else {
            c = new ModelCheck(saeModel, model, ModelMatch.DIFFERENT, "SAE " + sae + " was trained on " + saeModel
                    + " but the model is " + String.join(" / ", ids) + " (" + shown + ")");
        }
        LOG.log(Level.WARNING, c.message());
        return c;
    }

    /**
     * The checks of a run that captures {@code blocks.layer.hook_resid_post} of {@code gguf} and encodes it with
     * {@code saes}, done before the run from the SAEs' configs alone ({@link Sae#config}): throws an
     * IllegalArgumentException naming both hooks for the first SAE that does not fit, and returns the model
     * comparison of each (warnings logged). {@code gguf} may be null or absent: the model is then unknown.
     */
    public static List<ModelCheck> requireForCapture(List<String> saes, int layer, java.nio.file.Path gguf) throws java.io.IOException {
        ModelIdentity model = gguf != null && java.nio.file.Files.isRegularFile(gguf) ? ModelIdentity.read(gguf) : null;
        List<ModelCheck> out = new java.util.ArrayList<>();
        for (String sae : saes) {
            SaeConfig cfg = Sae.config(sae, layer);
            requireCapturePoint(cfg, sae, layer);
            out.add(checkModel(cfg, sae, model));
        }
        return out;
    }

    private static String quote(String s) {
        return s == null ? "absent" : "\"" + s + "\"";
    }
}
