package dev.jlens.llama;

import java.nio.file.Path;

/**
 * A capture produced NaN or infinity: the model's weights or hyper-parameters (a NaN weight, an infinite
 * embedding, a 1e30 norm...) make its forward pass non-finite, so its activations are no data. Bad input (the model
 * file), hence an IllegalArgumentException; names the model, the layer and where the first bad value is.
 */
public final class NonFiniteActivationsException extends IllegalArgumentException {
    private final transient Path model;
    private final int layer;

    NonFiniteActivationsException(Path model, int layer, int prompt, int position, int column, float value) {
        super(model + ": the forward pass gives non-finite activations (" + value + " at layer " + layer + ", prompt " + prompt
                + ", position " + position + ", column " + column + "): the model's weights or hyper-parameters are broken; nothing was written");
        this.model = model;
        this.layer = layer;
    }

    public Path model() { return model; }

    public int layer() { return layer; }
}
