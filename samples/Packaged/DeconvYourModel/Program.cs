using GpuDeconv.Layers;
using GpuDeconv.Training;

// A deconvnet of your own model: define a CNN, train it briefly on 16x16 images of crosses and rings, then project
// each layer's activations back to pixels (Zeiler & Fergus, guided backprop and the gradient), written against the
// GpuDeconv packages alone. Writes deconv-<method>.png (input | layer 1 | layer 2 for the first 8 images, enlarged) to
// the folder given by --out (default: the current folder).
//   dotnet run -c Release [-- --accelerator KIND] [--out FOLDER]
string kind = Option("--accelerator") ?? "auto";
string output = Option("--out") ?? ".";
using var accelerator = Accelerators.Create(kind, out string device);
Console.WriteLine($"accelerator: {device}");

const int Count = 64, Size = 16;
var (pixels, classes) = Shapes(Count, Size, seed: 3);
using var images = Tensor.FromArray(accelerator, pixels, [Count, Size, Size, 1]);
using var labels = Tensor.FromArray(accelerator, classes, [Count]);
using var model = new CrossesAndRings(
    new Conv2d(accelerator, 1, 8, kernelSize: 5, seed: 1, stddev: 0.2f, biasValue: 0.05f),
    new Conv2d(accelerator, 8, 16, kernelSize: 3, seed: 2, stddev: 0.2f, biasValue: 0.05f),
    new Linear(accelerator, 4 * 4 * 16, 2, seed: 3, stddev: 0.1f));
using var optimizer = new AdamOptimizer(model, learningRate: 0.01f);
float first = 0, last = 0;
for (int step = 0; step < 40; step++)
{
    using var scope = new TensorScope();
    var loss = Functional.SoftmaxCrossEntropy(model.Forward(images), labels);
    optimizer.ZeroGrad();
    loss.Backward(freeIntermediates: true);
    optimizer.Step();
    last = loss.ToArray()[0];
    if (step == 0) first = last;
}
Console.WriteLine($"trained: loss {first:F4} -> {last:F4}");

Directory.CreateDirectory(output);
using (Autograd.NoGrad())
{
    foreach (var variant in new[] { DeconvnetVariant.ZeilerFergus, DeconvnetVariant.GuidedBackprop, DeconvnetVariant.Gradient })
    {
        using var scope = new TensorScope();
        var trace = new ForwardTrace();
        model.Logits(images, trace);
        // Each layer's strongest activation of its feature map 0, back to the pixels.
        var layer1 = Deconvnet.Project(trace, 0, variant, ProjectionSelection.StrongestActivation(0));
        var layer2 = Deconvnet.Project(trace, 1, variant, ProjectionSelection.StrongestActivation(0));
        // Per image: input | layer 1 | layer 2, each scaled to the full gray range on its own (a weak projection
        // stays visible), 8 images in 2 columns, enlarged 6x with nearest neighbours.
        float[] inputs = images.ToArray(), fromLayer1 = layer1.ToArray(), fromLayer2 = layer2.ToArray();
        int perImage = Size * Size;
        var cells = new List<ByteImage>();
        for (int n = 0; n < 8; n++)
        {
            var parts = new[] { inputs, fromLayer1, fromLayer2 }
                .Select(values => ByteImage.FromFloats(values.AsSpan(n * perImage, perImage), Size, Size, 1, ImageLayout.Hwc)).ToList();
            cells.Add(ImageGrid.Tile(parts, columns: 3, padding: 1, background: 128));
        }
        var grid = ImageGrid.Tile(cells, columns: 2, padding: 2).Upscale(6);
        float energy = fromLayer1.Take(8 * perImage).Concat(fromLayer2.Take(8 * perImage)).Select(v => v * v).Sum();
        string file = Path.Combine(output, $"deconv-{variant.ToString().ToLowerInvariant()}.png");
        grid.SavePng(file);
        Console.WriteLine($"{variant}: projections {layer1.Shape} and {layer2.Shape}, wrote {file} (energy {energy:G4})");
        if (!(energy > 0) || !float.IsFinite(energy)) return 1;
    }
}
return last < first ? 0 : 1;

// 16x16 gray images: a cross (label 0) or a ring (label 1) at a random place.
static (float[] Pixels, int[] Labels) Shapes(int count, int size, int seed)
{
    var random = new Random(seed);
    var pixels = new float[count * size * size];
    var labels = new int[count];
    for (int n = 0; n < count; n++)
    {
        labels[n] = random.Next(2);
        int cy = random.Next(5, size - 5), cx = random.Next(5, size - 5);
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            int dy = y - cy, dx = x - cx;
            bool on = labels[n] == 0 ? (dy == 0 && Math.Abs(dx) <= 3) || (dx == 0 && Math.Abs(dy) <= 3) : Math.Abs(dy * dy + dx * dx - 9) <= 3;
            if (on) pixels[(n * size + y) * size + x] = 1f;
        }
    }
    return (pixels, labels);
}

string? Option(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

/// <summary>Your own model: two conv + ReLU + argmax-pool blocks and a linear layer, recording what the deconvnet needs.</summary>
sealed class CrossesAndRings : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly Linear _fc;

    public CrossesAndRings(Conv2d conv1, Conv2d conv2, Linear fc)
    {
        _conv1 = Register("conv1", conv1);
        _conv2 = Register("conv2", conv2);
        _fc = Register("fc", fc);
    }

    public override Tensor Forward(Tensor images)
    {
        // Without a trace the blocks' outputs are the autograd graph's alone: freed as the backward pass is done with them.
        using var intermediates = TensorScope.ForIntermediates();
        return intermediates.Keep(Logits(images, trace: null));
    }

    /// <summary>The logits; a trace records each block (weights, biases, switches) for Deconvnet.Project.</summary>
    public Tensor Logits(Tensor images, ForwardTrace? trace)
    {
        var pool = new PoolOptions(2, 2, Padding.Same);
        var (h, _) = _conv1.ForwardReluMaxPool(images, pool, trace);       // [N, 8, 8, 8]
        (h, _) = _conv2.ForwardReluMaxPool(h, pool, trace);                 // [N, 4, 4, 16]
        return _fc.Forward(h.Reshape([h.Shape[0], 4 * 4 * 16]));
    }
}
