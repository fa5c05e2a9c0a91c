using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>The learning rate, its schedule and the run's length a model takes on a data set when none is given.</summary>
public sealed record TrainingDefaults(float LearningRate, LearningRateSchedule Schedule, int WarmupSteps, int Epochs);

/// <summary>What a network is built for.</summary>
/// <param name="InputShape">The prepared image shape [H, W, C] (the preprocessing's output).</param>
/// <param name="Classes">Classes of the data set.</param>
/// <param name="Activation">The nonlinearity, for models that offer a choice.</param>
/// <param name="Seed">Seeds the weights.</param>
public sealed record ModelSetup(Shape InputShape, int Classes, Activation Activation, ulong Seed);

/// <summary>
/// A network the trainer knows by name. Adding a model is one file under <c>src/Training/Models</c>: the network, and
/// an implementation of this interface registered with <see cref="TrainerModels.Register"/> when the assembly loads.
/// It says what input it takes, how it is built, its defaults, what it logs to TensorBoard during and after training
/// (the deconv projections among them); the trainer, the checkpoints and <c>gpudeconv train --model</c> ask it.
/// </summary>
public interface ITrainerModel
{
    /// <summary>The name <c>--model</c> takes (cifar-gap, lenet5).</summary>
    string Name { get; }

    /// <summary>The name recorded in checkpoints (their <c>model</c> setting).</summary>
    string CheckpointName { get; }

    /// <summary>One line for <c>--help</c>.</summary>
    string Description { get; }

    /// <summary>Whether <c>--dataset auto</c> looks for (and downloads) CIFAR-10 for it; otherwise it takes Fashion-MNIST.</summary>
    bool TakesCifar10 { get; }

    /// <summary>The defaults on <paramref name="dataset"/> (cifar10, fashion-mnist, mnist).</summary>
    TrainingDefaults Defaults(string dataset);

    /// <summary>The training and evaluation preprocessing for images of <paramref name="imageShape"/>.</summary>
    /// <exception cref="ArgumentException">The model cannot take such images; the message says what it takes.</exception>
    (Preprocess Train, Preprocess Test) Inputs(Shape imageShape, bool distort);

    /// <summary>A new network with freshly initialised weights.</summary>
    Module Create(Accelerator accelerator, ModelSetup setup);

    /// <summary>What is wrong with <paramref name="options"/> for this model (its own options, such as the top-9 maps).</summary>
    IEnumerable<string> Problems(TrainerOptions options) => [];

    /// <summary>
    /// The summaries logged at the start, every <see cref="TrainerOptions.ImageEvery"/> steps and at the end. Images go
    /// through <see cref="TrainingSummaries"/>' image methods, which enlarge them by <see cref="TrainerOptions.ImageScale"/>.
    /// </summary>
    void LogImages(TrainingSummaries summaries, Module model, long step) { }

    /// <summary>The summaries logged once after training (after the test accuracy).</summary>
    void LogFinal(TrainingSummaries summaries, Module model, long step) { }
}

/// <summary>The models the trainer knows, by name; each model's file registers it.</summary>
public static class TrainerModels
{
    private static readonly List<ITrainerModel> Models = [];
    private static readonly object Gate = new();

    /// <summary>Every registered model, ordered by name.</summary>
    public static IReadOnlyList<ITrainerModel> All
    {
        get
        {
            lock (Gate) return [.. Models.OrderBy(m => m.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The model everything defaults to: the deconv tutorial's.</summary>
    public const string DefaultName = "cifar-gap";

    /// <summary>Adds a model; a second model of the same name is an error.</summary>
    /// <exception cref="ArgumentException">A model of that name or checkpoint name is already registered.</exception>
    public static void Register(ITrainerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (Gate)
        {
            if (Models.Any(m => m.Name == model.Name || m.CheckpointName == model.CheckpointName))
                throw new ArgumentException($"TrainerModels: a model named '{model.Name}' ({model.CheckpointName}) is already registered.", nameof(model));
            Models.Add(model);
        }
    }

    /// <summary>The model called <paramref name="name"/> (its <c>--model</c> name or its checkpoint name), or null.</summary>
    public static ITrainerModel? Find(string? name)
    {
        lock (Gate) return Models.FirstOrDefault(m => m.Name == name || m.CheckpointName == name);
    }

    /// <summary>The model called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No model has that name; the message lists the names.</exception>
    public static ITrainerModel Get(string? name) =>
        Find(name) ?? throw new ArgumentException($"--model '{name}' is not a model here; the models are {string.Join(", ", All.Select(m => m.Name))}.", nameof(name));
}

/// <summary>What a model's summaries have to work with: the writer, the test set and its preprocessing, the options.</summary>
public sealed class TrainingSummaries
{
    internal TrainingSummaries(SummaryWriter writer, Accelerator accelerator, TrainerOptions options, Dataset test, Preprocess testInput)
    {
        Writer = writer;
        Accelerator = accelerator;
        Options = options;
        Test = test;
        TestInput = testInput;
    }

    /// <summary>The run's TensorBoard writer.</summary>
    public SummaryWriter Writer { get; }

    /// <summary>Where the model runs.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The run's options (log directory, top-9 settings, evaluation batch size).</summary>
    public TrainerOptions Options { get; }

    /// <summary>The whole test set.</summary>
    public Dataset Test { get; }

    /// <summary>The test images' preprocessing.</summary>
    public Preprocess TestInput { get; }

    /// <summary>The test images at <paramref name="indices"/>, prepared for evaluation, as one [count, H, W, C] tensor.</summary>
    public Tensor Images(IReadOnlyList<int> indices)
    {
        var output = TestInput.Output;
        int size = (int)output.Size;
        var pixels = new float[indices.Count * size];
        for (int i = 0; i < indices.Count; i++) TestInput.Apply(Test.ImageSpan(indices[i]), pixels.AsSpan(i * size, size), 0);
        return Tensor.FromArray(Accelerator, pixels, new Shape(indices.Count, output[0], output[1], output[2]));
    }

    /// <summary>The first <paramref name="count"/> test images (all when there are fewer), prepared.</summary>
    public Tensor FirstImages(int count) => Images([.. Enumerable.Range(0, Math.Min(count, Test.Count))]);

    /// <summary>The shorter side <see cref="AutoScale"/> brings a panel to (TensorBoard's image cards are a few hundred pixels wide).</summary>
    public const int PanelShortSide = 200;

    /// <summary>The longer side <see cref="AutoScale"/> does not enlarge a panel past.</summary>
    public const int PanelLongSide = 2048;

    /// <summary>
    /// The factor <c>--image-scale auto</c> enlarges a height x width panel by: the smallest that makes the shorter side at
    /// least <see cref="PanelShortSide"/>, lowered so the longer side stays within <see cref="PanelLongSide"/>, and at least 1
    /// (24x72 gives 9, 7x37 gives 29, 400x120 gives 2).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is below 1.</exception>
    public static int AutoScale(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int shorter = Math.Min(height, width), longer = Math.Max(height, width);
        int factor = (PanelShortSide + shorter - 1) / shorter;
        return Math.Max(1, Math.Min(factor, PanelLongSide / longer));
    }

    /// <summary><paramref name="image"/> enlarged by the run's <see cref="TrainerOptions.ImageScale"/> (nearest neighbour; auto: <see cref="AutoScale"/>).</summary>
    public ByteImage Panel(ByteImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Upscale(Options.ImageScale ?? AutoScale(image.Height, image.Width));
    }

    /// <summary>Logs <paramref name="image"/>, enlarged (<see cref="Panel"/>), under <paramref name="tag"/>.</summary>
    public void AddImage(string tag, ByteImage image, long step) => Writer.AddImage(tag, Panel(image), step);

    /// <summary>
    /// Logs the first <paramref name="maxOutputs"/> images of a float NHWC batch under <c>name/image/0..</c> in one event, each
    /// scaled to bytes as <c>tf.summary.image</c> does and then enlarged (<see cref="SummaryWriter.AddImages(string, ReadOnlySpan{float}, int, int, int, ImageLayout, long, int)"/>'s tags).
    /// </summary>
    public void AddImages(string name, ReadOnlySpan<float> batch, int height, int width, int channels, long step, int maxOutputs)
    {
        int size = height * width * channels, count = Math.Min(batch.Length / Math.Max(size, 1), maxOutputs);
        var images = new ByteImage[count];
        for (int i = 0; i < count; i++) images[i] = Panel(ByteImage.FromFloats(batch.Slice(i * size, size), height, width, channels, ImageLayout.Hwc));
        Writer.AddImages(name, images, step, maxOutputs);
    }

    /// <summary>Logs a float NHWC batch as one grid under <paramref name="tag"/>, each cell scaled on its own (<see cref="SummaryWriter.AddImageGrid(string, ReadOnlySpan{float}, int, int, int, ImageLayout, long)"/>'s layout), enlarged.</summary>
    public void AddImageGrid(string tag, ReadOnlySpan<float> batch, int height, int width, int channels, long step)
    {
        int size = height * width * channels;
        var cells = new ByteImage[batch.Length / Math.Max(size, 1)];
        for (int i = 0; i < cells.Length; i++) cells[i] = ByteImage.FromFloats(batch.Slice(i * size, size), height, width, channels, ImageLayout.Hwc);
        AddImage(tag, ImageGrid.Tile(cells), step);
    }

    /// <summary>Logs <paramref name="image"/>, enlarged (<see cref="Panel"/>), under <paramref name="tag"/> and saves it as <paramref name="file"/> in the log directory.</summary>
    public void AddImageAndSave(string tag, ByteImage image, string file, long step)
    {
        var panel = Panel(image);
        Writer.AddImage(tag, panel, step);
        panel.SavePng(Path.Combine(Options.LogDirectory, file));
    }

    /// <summary>Values scaled to [0, 1] by their minimum and maximum (all 0 when they are equal).</summary>
    public static float[] MinMax(float[] values)
    {
        float min = values.Min(), max = values.Max(), range = max - min;
        return [.. values.Select(v => range > 0 ? (v - min) / range : 0f)];
    }

    /// <summary>A tag or file name with an invariant number in it.</summary>
    public static string Name(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
