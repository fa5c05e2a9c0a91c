using System.Text.Encodings.Web;
using System.Text.Json;
using GpuDeconv.Compute;
using GpuDeconv.Layers;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// <c>--describe FILE</c>: what compare.py needs besides times. Each accelerator's peaks (<see cref="DevicePeak"/>), and
/// the device memory of one training step of each model: the peak of bytes in live tensors (parameters, Adam
/// moments, gradients, activations, the batch: what torch.cuda.max_memory_allocated counts) and the peak of device
/// bytes held, caches and kernel scratch included (torch.cuda.max_memory_reserved's counterpart).
/// </summary>
internal static class Describe
{
    public static void Write(string path)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteNumber("batch", KernelShapes.Batch);
        json.WriteNumber("large_batch", KernelShapes.LargeBatch);
        json.WriteStartArray("accelerators");
        foreach (string kind in AcceleratorBenchmark.Accelerators())
        {
            var peak = DevicePeak.ForKind(kind);
            json.WriteStartObject();
            json.WriteString("kind", kind);
            using (var named = BenchmarkAccelerators.Create(kind)) json.WriteString("name", named.Device.Name);
            WriteNumber(json, "peak_gflops", peak.GigaFlops);
            WriteNumber(json, "peak_gbs", peak.GigaBytesPerSecond);
            json.WriteString("peak_source", peak.Source);
            json.WriteStartArray("training_step_memory");
            // A fresh accelerator per model, so one model's cached blocks do not count for the next.
            foreach (var model in ModelCase.TrainingSteps())
            {
                using var accelerator = BenchmarkAccelerators.Create(kind);
                WriteStepMemory(json, accelerator, model);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        Console.WriteLine($"wrote {path}");
    }

    private static void WriteStepMemory(Utf8JsonWriter json, Accelerator accelerator, ModelCase model)
    {
        var allocator = DeviceAllocator.For(accelerator);
        using var step = new TrainingStep(accelerator, model.Name, model.Batch);
        // Two steps first: Adam's moments and every cache exist from then on, as in a long run.
        step.Run();
        step.Run();
        accelerator.Synchronize();
        allocator.ResetPeak();
        accelerator.ResetPeakBytesAllocated();
        step.Run();
        accelerator.Synchronize();
        json.WriteStartObject();
        json.WriteString("model", model.Name);
        json.WriteNumber("batch", model.Batch);
        json.WriteNumber("peak_tensor_bytes", allocator.Statistics.PeakBytesInUse);
        json.WriteNumber("peak_device_bytes", accelerator.PeakBytesAllocated);
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }
}
