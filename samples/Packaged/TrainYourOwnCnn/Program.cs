using GpuDeconv.Layers;
using GpuDeconv.Training;

// Train your own CNN: a small network of your own design on Fashion-MNIST (Debian's dataset-fashion-mnist, or the
// IDX files in the folder given as the first argument), written against the GpuDeconv packages alone.
//   dotnet run -c Release [-- FOLDER] [--accelerator KIND] [--steps N]
string? folder = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : null;
string kind = Option("--accelerator") ?? "auto";
int steps = int.Parse(Option("--steps") ?? "150");
const int Batch = 64;

var train = FashionMnist.Load(DatasetSplit.Train, folder);
var test = FashionMnist.Load(DatasetSplit.Test, folder);
using var accelerator = Accelerators.Create(kind, out string device);
Console.WriteLine($"accelerator: {device}; {train.Count} training and {test.Count} test images {train.ImageShape}");

// conv 5x5 (1 -> 16) + ReLU + pool 2 -> conv 5x5 (16 -> 32) + ReLU + pool 2 -> linear (7*7*32 -> 10)
using var model = new Sequential(
    ("conv1", new Conv2d(accelerator, 1, 16, kernelSize: 5, seed: 1, stddev: 0.1f)),
    ("relu1", new Relu()),
    ("pool1", new MaxPool2d(2)),
    ("conv2", new Conv2d(accelerator, 16, 32, kernelSize: 5, seed: 2, stddev: 0.05f)),
    ("relu2", new Relu()),
    ("pool2", new MaxPool2d(2)),
    ("flatten", new Flatten()),
    ("fc", new Linear(accelerator, 7 * 7 * 32, 10, seed: 3, stddev: 0.05f)));
using var optimizer = new AdamOptimizer(model, learningRate: 0.002f);

var pixels = new float[Batch * 28 * 28];
var labels = new int[Batch];
var random = new Random(7);
float firstLoss = 0, loss = 0;
for (int step = 0; step < steps; step++)
{
    for (int i = 0; i < Batch; i++)
    {
        int index = random.Next(train.Count);
        Fill(train, index, pixels.AsSpan(i * 784, 784));
        labels[i] = train.Label(index);
    }
    using var scope = new TensorScope();                              // the step's tensors go back at the end
    var images = Tensor.FromArray(accelerator, pixels, [Batch, 28, 28, 1]);
    var lossTensor = Functional.SoftmaxCrossEntropy(model.Forward(images), Tensor.FromArray(accelerator, labels, [Batch]));
    optimizer.ZeroGrad();
    lossTensor.Backward(freeIntermediates: true);
    optimizer.Step();
    if (step % 50 == 0 || step == steps - 1)
    {
        loss = lossTensor.ToArray()[0];
        if (step == 0) firstLoss = loss;
        Console.WriteLine($"step {step,4}: loss {loss:F4}");
    }
}

// Accuracy on the first 1000 test images, without recording a graph.
int correct = 0, evaluated = Math.Min(1000, test.Count);
using (Autograd.NoGrad())
{
    for (int start = 0; start < evaluated; start += Batch)
    {
        int n = Math.Min(Batch, evaluated - start);
        for (int i = 0; i < n; i++) Fill(test, start + i, pixels.AsSpan(i * 784, 784));
        using var scope = new TensorScope();
        var predicted = Functional.Argmax(model.Forward(Tensor.FromArray(accelerator, pixels.AsSpan(0, n * 784), [n, 28, 28, 1])), axis: 1).ToArray<int>();
        for (int i = 0; i < n; i++) if (predicted[i] == test.Label(start + i)) correct++;
    }
}
double accuracy = (double)correct / evaluated;
Console.WriteLine($"test accuracy {accuracy:P1} on {evaluated} test images after {steps} steps of {Batch}");
return loss < firstLoss && accuracy > 0.5 ? 0 : 1;

static void Fill(Dataset data, int index, Span<float> destination)
{
    var bytes = data.ImageSpan(index);
    for (int i = 0; i < destination.Length; i++) destination[i] = bytes[i] / 255f;
}

string? Option(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
