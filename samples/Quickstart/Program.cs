using GpuDeconv.Layers;

// Trains a two-layer CNN to tell horizontal from vertical bars, then projects each layer's pooled
// activations back to pixels as the deconv tutorial does. One `using` is all research code needs
// (a test compiles this file with nothing else). Runs on the preferred accelerator (CUDA, then
// OpenCL, then CPU); `--cpu` forces the CPU accelerator, `--accelerator KIND` any other kind.
int at = Array.IndexOf(args, "--accelerator");
string kind = at >= 0 && at + 1 < args.Length ? args[at + 1] : args.Contains("--cpu") ? "cpu" : "auto";
using var accelerator = Accelerators.Create(kind, out string description);
Console.WriteLine($"accelerator: {description}");

// The tutorial's weight_variable / bias_variable: truncated normal and a small constant bias.
using var model = new BarsNet(
    new Conv2d(accelerator, 1, 8, kernelSize: 3, seed: 1, stddev: 0.1f, biasValue: 0.1f),
    new Conv2d(accelerator, 8, 16, kernelSize: 3, seed: 2, stddev: 0.1f, biasValue: 0.1f),
    new Linear(accelerator, 2 * 2 * 16, 2, seed: 3, stddev: 0.1f, biasValue: 0.1f));
using var optimizer = new AdamOptimizer(model, learningRate: 0.01f);
var (pixels, classes) = Bars.Images(count: 32, seed: 1);
using var images = Tensor.FromArray(accelerator, pixels, [32, 8, 8, 1]);
using var labels = Tensor.FromArray(accelerator, classes, [32]);
{
    float first = 0, last = 0;
    for (int step = 0; step < 60; step++)
    {
        using var scope = new TensorScope();            // the step's temporaries go back to the allocator
        var loss = Functional.SoftmaxCrossEntropy(model.Forward(images), labels);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        if (step % 20 == 0 || step == 59)
        {
            last = loss.ToArray()[0];                   // reading to the host is the only wait
            if (step == 0) first = last;
            Console.WriteLine($"step {step,2}: loss {last:F4}");
        }
    }

    using var projection = new TensorScope();
    using var noGrad = Autograd.NoGrad();
    var trace = new ForwardTrace();
    model.Logits(images, trace);
    var layer1 = Deconvnet.Project(trace, layer: 0, DeconvnetVariant.Tutorial);    // [32, 8, 8, 1]
    var layer2 = Deconvnet.Project(trace, layer: 1, DeconvnetVariant.Tutorial);
    var summary = Deconvnet.Stitch(images, layer1, layer2);                         // [32, 8, 24, 1]: input | layer 1 | layer 2
    var strongest = Deconvnet.Project(trace, 1, DeconvnetVariant.ZeilerFergus, ProjectionSelection.StrongestActivation(3));
    Console.WriteLine($"projections: summary {summary.Shape}, Zeiler & Fergus map 3 {strongest.Shape}");
    Console.WriteLine(Bars.Render(summary.ToArray(), height: 8, width: 24));
    return last < first / 2 ? 0 : 1;
}

/// <summary>conv 3x3 (1 -> 8) -> ReLU -> argmax pool 2 -> conv 3x3 (8 -> 16) -> ReLU -> argmax pool 2 -> linear (64 -> 2).</summary>
sealed class BarsNet : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly Linear _fc;

    public BarsNet(Conv2d conv1, Conv2d conv2, Linear fc)
    {
        _conv1 = Register("conv1", conv1);
        _conv2 = Register("conv2", conv2);
        _fc = Register("fc", fc);
    }

    public override Tensor Forward(Tensor images) => Logits(images, new ForwardTrace());

    /// <summary>The logits; the trace records what the deconvnet needs (weights, biases, switches), by reference.</summary>
    public Tensor Logits(Tensor images, ForwardTrace trace)
    {
        var h = trace.Relu(trace.Conv2d(images, _conv1.Weight, bias: _conv1.Bias));    // [N, 8, 8, 8]
        (h, _) = trace.MaxPoolWithArgmax(h, size: 2, stride: 2);                        // [N, 4, 4, 8]
        h = trace.Relu(trace.Conv2d(h, _conv2.Weight, bias: _conv2.Bias));             // [N, 4, 4, 16]
        (h, _) = trace.MaxPoolWithArgmax(h, size: 2, stride: 2);                        // [N, 2, 2, 16]
        return _fc.Forward(h.Reshape([h.Shape[0], 2 * 2 * 16]));
    }
}

static class Bars
{
    /// <summary>8x8 images holding one horizontal (label 0) or vertical (label 1) bar.</summary>
    public static (float[] Pixels, int[] Labels) Images(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[count * 8 * 8];
        var classes = new int[count];
        for (int n = 0; n < count; n++)
        {
            classes[n] = random.Next(2);
            int at = random.Next(8);
            for (int i = 0; i < 8; i++) pixels[n * 64 + (classes[n] == 0 ? at * 8 + i : i * 8 + at)] = 1f;
        }
        return (pixels, classes);
    }

    /// <summary>The first image of an [N, height, width, 1] batch as text, darker characters for larger values.</summary>
    public static string Render(float[] values, int height, int width)
    {
        const string shades = " .:-=+*#%@";
        float min = values.Take(height * width).Min(), max = values.Take(height * width).Max();
        var rows = new List<string>();
        for (int y = 0; y < height; y++)
        {
            var row = new char[width];
            for (int x = 0; x < width; x++)
            {
                float v = (values[y * width + x] - min) / Math.Max(max - min, 1e-6f);
                row[x] = shades[(int)(v * (shades.Length - 1))];
            }
            rows.Add(new string(row));
        }
        return string.Join('\n', rows);
    }
}
