package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** The ggml compute devices the loaded llama.cpp build registered (CPU always; CUDA GPUs in a --cuda build). */
public final class Backends {
    private Backends() {}

    /** One registered device: ggml's name ("CUDA0"), description (the GPU model) and kind. */
    public record Device(String name, String description, boolean gpu) {}

    public static List<Device> devices() {
        NativeLibrary.load();
        long n = LlamaH.ggml_backend_dev_count();
        List<Device> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            MemorySegment d = LlamaH.ggml_backend_dev_get(i);
            if (d.equals(MemorySegment.NULL)) continue;
            String name = LlamaH.ggml_backend_dev_name(d).reinterpret(256).getString(0);
            String desc = LlamaH.ggml_backend_dev_description(d).reinterpret(1024).getString(0);
            int type = LlamaH.ggml_backend_dev_type(d);
            out.add(new Device(name, desc, type == LlamaH.GGML_BACKEND_DEVICE_TYPE_GPU()));
        }
        return List.copyOf(out);
    }

    /** The GPU devices; empty for a CPU-only build or when the build's GPU backend found no device. */
    public static List<Device> gpus() {
        return devices().stream().filter(Device::gpu).toList();
    }
}
