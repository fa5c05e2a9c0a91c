using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class CheckpointTests
{
    private static readonly DateTimeOffset Created = new(2024, 5, 1, 12, 30, 15, 123, TimeSpan.FromHours(2));

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    private static Checkpoint Sample(long step, int seed) => new(
        step,
        new Dictionary<string, HostTensor>
        {
            ["conv1/weight"] = new HostTensor<float>(new Shape(5, 5, 3, 4), Random(300, seed)),
            ["conv1/bias"] = new HostTensor<float>(new Shape(4), Random(4, seed + 1)),
        },
        new Dictionary<string, HostTensor>
        {
            ["adam/m/conv1/weight"] = new HostTensor<float>(new Shape(5, 5, 3, 4), Random(300, seed + 2)),
            ["adam/m/conv1/bias"] = new HostTensor<float>(new Shape(4), Random(4, seed + 3)),
            ["adam/step"] = new HostTensor<long>(new Shape(), [step]),
        },
        new Dictionary<string, string> { ["learning_rate"] = "0.1", ["batch_size"] = "128", ["data"] = "cifar10" },
        Created);

    private static Dictionary<string, HostTensor> Model(params (string Name, Shape Shape)[] tensors) =>
        tensors.ToDictionary(t => t.Name, t => (HostTensor)new HostTensor<float>(t.Shape));

    [Fact]
    public void SaveAndLoadKeepEverything()
    {
        using var dir = new TempDirectory();
        string path = dir["checkpoint.safetensors"];
        var saved = Sample(1500, seed: 1);

        saved.Save(path);
        var loaded = Checkpoint.Load(path);

        Assert.Equal(1500, loaded.Step);
        Assert.Equal(Created, loaded.CreatedAt);
        Assert.Equal(saved.Settings, loaded.Settings);
        foreach (var (expected, actual) in new[] { (saved.Parameters, loaded.Parameters), (saved.OptimizerState, loaded.OptimizerState) })
        {
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, tensor) in expected)
            {
                Assert.Equal(tensor.Shape, actual[name].Shape);
                Assert.Equal(tensor.Bytes.ToArray(), actual[name].Bytes.ToArray());
            }
        }
        Assert.Equal([1500L], ((HostTensor<long>)loaded.OptimizerState["adam/step"]).Data);
    }

    [Fact]
    public void TheFileIsPlainSafetensorsWithNamedWeightsAndMetadata()
    {
        using var dir = new TempDirectory();
        string path = dir["checkpoint.safetensors"];
        Sample(7, seed: 2).Save(path);

        var header = SafeTensors.ReadHeader(path);

        Assert.Equal(
            ["conv1/bias", "conv1/weight", "optimizer/adam/m/conv1/bias", "optimizer/adam/m/conv1/weight", "optimizer/adam/step"],
            header.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal("1", header.Metadata["gpudeconv.checkpoint_version"]);
        Assert.Equal("7", header.Metadata["gpudeconv.step"]);
        Assert.Equal("2024-05-01T12:30:15.1230000+02:00", header.Metadata["gpudeconv.created"]);
        Assert.Equal("0.1", header.Metadata["settings.learning_rate"]);
        Assert.Equal("cifar10", header.Metadata["settings.data"]);
    }

    [Fact]
    public void CopyToFillsTheModelAndTheOptimizer()
    {
        var checkpoint = Sample(3, seed: 3);
        var parameters = Model(("conv1/weight", new Shape(5, 5, 3, 4)), ("conv1/bias", new Shape(4)));
        var optimizer = new Dictionary<string, HostTensor>
        {
            ["adam/m/conv1/weight"] = new HostTensor<float>(new Shape(5, 5, 3, 4)),
            ["adam/m/conv1/bias"] = new HostTensor<float>(new Shape(4)),
            ["adam/step"] = new HostTensor<long>(new Shape()),
        };

        checkpoint.CopyTo(parameters, optimizer);

        Assert.Equal(Random(300, 3), ((HostTensor<float>)parameters["conv1/weight"]).Data);
        Assert.Equal(Random(4, 6), ((HostTensor<float>)optimizer["adam/m/conv1/bias"]).Data);
        Assert.Equal([3L], ((HostTensor<long>)optimizer["adam/step"]).Data);
    }

    [Fact]
    public void CopyToWithoutOptimizerStateLoadsOnlyTheWeights()
    {
        var parameters = Model(("conv1/weight", new Shape(5, 5, 3, 4)), ("conv1/bias", new Shape(4)));
        Sample(3, seed: 4).CopyTo(parameters);
        Assert.Equal(Random(4, 5), ((HostTensor<float>)parameters["conv1/bias"]).Data);
    }

    [Fact]
    public void AShapeMismatchNamesTheTensorAndBothShapesAndCopiesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir["checkpoint-00000100.safetensors"];
        new Checkpoint(100, new Dictionary<string, HostTensor>
        {
            ["conv1/bias"] = new HostTensor<float>(new Shape(64), Random(64, 5)),
            ["conv2/weight"] = new HostTensor<float>(new Shape(5, 5, 64, 64)),
        }).Save(path);
        var model = Model(("conv1/bias", new Shape(64)), ("conv2/weight", new Shape(5, 5, 32, 64)));

        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path).CopyTo(model));

        Assert.Contains(path, e.Message);
        Assert.Contains("does not fit the model (1 tensor differs)", e.Message);
        Assert.Contains("\n  conv2/weight: the checkpoint holds [5, 5, 64, 64] but the model expects [5, 5, 32, 64]", e.Message);
        Assert.Equal("parameters", e.ParamName);
        // conv1/bias matched, but a failed load must not leave the model half overwritten.
        Assert.All(((HostTensor<float>)model["conv1/bias"]).Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void EveryMismatchIsListedInNameOrder()
    {
        var checkpoint = new Checkpoint(1, new Dictionary<string, HostTensor>
        {
            ["a/weight"] = new HostTensor<int>(new Shape(3)),
            ["b/extra"] = new HostTensor<float>(new Shape(2, 2)),
            ["c/weight"] = new HostTensor<float>(new Shape(4)),
        }, new Dictionary<string, HostTensor> { ["adam/step"] = new HostTensor<long>(new Shape()) });
        var model = Model(("a/weight", new Shape(3)), ("c/weight", new Shape(4)), ("d/missing", new Shape(1, 2)));
        var optimizer = new Dictionary<string, HostTensor> { ["adam/step"] = new HostTensor<long>(new Shape(1)) };

        var e = Assert.Throws<ArgumentException>(() => checkpoint.CopyTo(model, optimizer));

        string[] lines = e.Message.Split('\n');
        Assert.StartsWith("Checkpoint of step 1 does not fit the model (4 tensors differ):", lines[0]);
        Assert.Equal("  a/weight: the checkpoint holds I32 [3] but the model expects F32 [3]", lines[1]);
        Assert.Equal("  b/extra: the checkpoint holds F32 [2, 2] but the model has no such tensor", lines[2]);
        Assert.Equal("  d/missing: the model expects F32 [1, 2] but the checkpoint has no such tensor", lines[3]);
        Assert.StartsWith("  optimizer/adam/step: the checkpoint holds [] but the model expects [1]", lines[4]);
    }

    [Fact]
    public void OnlyOptimizerMismatchesBlameTheOptimizerState()
    {
        var checkpoint = Sample(2, seed: 5);
        var parameters = Model(("conv1/weight", new Shape(5, 5, 3, 4)), ("conv1/bias", new Shape(4)));
        var e = Assert.Throws<ArgumentException>(() => checkpoint.CopyTo(parameters, new Dictionary<string, HostTensor>()));
        Assert.Equal("optimizerState", e.ParamName);
        Assert.Contains("optimizer/adam/step: the checkpoint holds I64 [] but the model has no such tensor", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(300)]
    [InlineData(1300)]
    [InlineData(2800)]
    public void ACrashDuringASaveLeavesThePreviousCheckpoint(int failAfter)
    {
        using var dir = new TempDirectory();
        string path = dir["checkpoint.safetensors"];
        Sample(100, seed: 10).Save(path);
        byte[] before = File.ReadAllBytes(path);
        Assert.True(before.Length > 2800, $"the checkpoint is only {before.Length} bytes; the failure points should fall inside it");

        Assert.Throws<IOException>(() => Sample(200, seed: 20).Save(path, file => new FailingStream(file, failAfter)));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(100, Checkpoint.Load(path).Step);
        Assert.Equal(["checkpoint.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void APlainSafetensorsFileIsNotACheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir["weights.safetensors"];
        SafeTensors.Save(path, new Dictionary<string, HostTensor> { ["w"] = new HostTensor<float>(new Shape(1)) });

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a GpuDeconv checkpoint", e.Message);
    }

    [Theory]
    [InlineData("2", "1", "2024-05-01T12:00:00.0000000+00:00", "written by a newer GpuDeconv (checkpoint version 2)")]
    [InlineData("one", "1", "2024-05-01T12:00:00.0000000+00:00", "\"gpudeconv.checkpoint_version\" is \"one\"; expected a positive integer")]
    [InlineData("1", "-5", "2024-05-01T12:00:00.0000000+00:00", "\"gpudeconv.step\" is \"-5\"; expected the training step")]
    [InlineData("1", "5", "yesterday", "\"gpudeconv.created\" is \"yesterday\"")]
    public void BadCheckpointMetadataIsReported(string version, string step, string created, string expected)
    {
        using var dir = new TempDirectory();
        string path = dir["c.safetensors"];
        SafeTensors.Save(path, new Dictionary<string, HostTensor>(), new Dictionary<string, string>
        {
            ["gpudeconv.checkpoint_version"] = version, ["gpudeconv.step"] = step, ["gpudeconv.created"] = created,
        });

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ParameterNamesMayNotUseTheOptimizerPrefix()
    {
        var e = Assert.Throws<ArgumentException>(() => new Checkpoint(1, new Dictionary<string, HostTensor> { ["optimizer/lr"] = new HostTensor<float>(new Shape()) }));
        Assert.Contains("\"optimizer/lr\" starts with \"optimizer/\"", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint(-1, new Dictionary<string, HostTensor>()));
    }
}
