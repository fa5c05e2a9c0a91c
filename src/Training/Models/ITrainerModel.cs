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

    /// <summary>The summaries logged at the start, every <see cref="TrainerOptions.ImageEvery"/> steps and at the end.</summary>
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

    /// <summary>Logs <paramref name="image"/> under <paramref name="tag"/> and saves it as <paramref name="file"/> in the log directory.</summary>
    public void AddImageAndSave(string tag, ByteImage image, string file, long step)
    {
        Writer.AddImage(tag, image, step);
        image.SavePng(Path.Combine(Options.LogDirectory, file));
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
