using System.Reflection;
using GpuDeconv.Compute;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

/// <summary>
/// The research API as a user meets it (docs/api.md): one <c>using GpuDeconv.Layers;</c>, no type name shared by the
/// namespaces a user imports together, tensor operators with their gradients, ToString, arrays in and out, and
/// accelerators by kind.
/// </summary>
public sealed class ResearchApiTests
{
    private static readonly string[] UserNamespaces = ["GpuDeconv.Layers", "GpuDeconv.Compute", "GpuDeconv.Kernels", "GpuDeconv.Training", "GpuDeconv.Compute.Ilgpu"];

    [Fact]
    public void TheQuickstartCompilesWithOneUsingAndNothingElse()
    {
        string path = Path.Combine(RepositoryRoot(), "samples", "Quickstart", "Program.cs");
        var token = TestContext.Current.CancellationToken;
        var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(path), new CSharpParseOptions(LanguageVersion.Latest), path, cancellationToken: token);
        var usings = tree.GetCompilationUnitRoot(token).Usings.Select(u => u.Name!.ToString()).ToArray();
        Assert.Equal(["GpuDeconv.Layers"], usings);

        // The framework's implicit usings (System, System.Linq, ...) as a project has them, and no GpuDeconv namespace but that one.
        var implicitUsings = CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Threading.Tasks;", cancellationToken: token);
        _ = typeof(Tensor).Assembly;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location))
            .Distinct(StringComparer.Ordinal)
            .Select(file => MetadataReference.CreateFromFile(file));
        var compilation = CSharpCompilation.Create("OneUsing", [tree, implicitUsings], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics(token).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();
        Assert.True(errors.Length == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public void TheQuickstartTrainsAndProjects()
    {
        var (exitCode, output) = Samples.Run("Quickstart", "--cpu");
        Assert.True(exitCode is 0, output);
        Assert.Contains("projections: summary [32, 8, 24, 1]", output);
    }

    [Fact]
    public void NoPublicTypeNameIsSharedByTwoNamespacesAUserImportsTogether()
    {
        _ = typeof(Tensor);
        _ = typeof(GpuDeconv.Compute.Ilgpu.IlgpuBackend);
        var assemblies = new[] { typeof(Accelerator).Assembly, typeof(GpuDeconv.Kernels.Elementwise).Assembly, typeof(Tensor).Assembly, typeof(GpuDeconv.Compute.Ilgpu.IlgpuBackend).Assembly };
        var clashes = assemblies.SelectMany(a => a.GetExportedTypes())
            .Where(t => !t.IsNested && UserNamespaces.Contains(t.Namespace))
            .GroupBy(t => t.Name.Split('`')[0])
            .Where(g => g.Select(t => t.Namespace).Distinct().Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(t => t.FullName))}")
            .ToArray();
        Assert.True(clashes.Length == 0, "type names in two namespaces: " + string.Join("; ", clashes));
    }

    [Fact]
    public void TheResearchVocabularyLivesInGpuDeconvLayers()
    {
        foreach (var type in new[] { typeof(Shape), typeof(Padding), typeof(Size2d), typeof(PoolOptions), typeof(Conv2dOptions), typeof(Tensor), typeof(Functional), typeof(Conv2d), typeof(AdamOptimizer), typeof(Deconvnet), typeof(Accelerators) })
            Assert.Equal("GpuDeconv.Layers", type.Namespace);
    }

    [Fact]
    public void KernelPlumbingIsNotPublic()
    {
        var kernels = typeof(GpuDeconv.Kernels.Elementwise).Assembly;
        foreach (string name in new[] { "Scratch", "ConvGemm", "DirectConv", "WindowGeometry", "TransposeGeometry", "Windowing", "Conv2dVector", "HostLanes" })
        {
            var type = kernels.GetType("GpuDeconv.Kernels." + name);
            Assert.NotNull(type);
            Assert.False(type!.IsPublic, $"GpuDeconv.Kernels.{name} is plumbing and should be internal");
        }
        Assert.Null(typeof(GpuDeconv.Kernels.Conv2dKernels).GetField("ModeForward", BindingFlags.Public | BindingFlags.Static));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OperatorsMatchLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] shape = [2, 3];
        var a = In(TestData.Uniform(31, 6, -2f, 2f), shape);
        var b = In(TestData.AwayFromZero(32, 6), shape);
        Run(acc, "a + b", t => t[0] + t[1], x => x[0].Zip(x[1], (p, q) => p + q).ToArray(), [a, b]);
        Run(acc, "a - b", t => t[0] - t[1], x => x[0].Zip(x[1], (p, q) => p - q).ToArray(), [a, b]);
        Run(acc, "a * b", t => t[0] * t[1], x => x[0].Zip(x[1], (p, q) => p * q).ToArray(), [a, b]);
        Run(acc, "a / b", t => t[0] / t[1], x => x[0].Zip(x[1], (p, q) => p / q).ToArray(), [a, b]);
        Run(acc, "-a", t => -t[0], x => x[0].Select(p => -p).ToArray(), [a]);
        Run(acc, "a + 1.5", t => t[0] + 1.5f, x => x[0].Select(p => p + 1.5).ToArray(), [a]);
        Run(acc, "1.5 - a", t => 1.5f - t[0], x => x[0].Select(p => 1.5 - p).ToArray(), [a]);
        Run(acc, "a * 3", t => 3f * t[0], x => x[0].Select(p => 3 * p).ToArray(), [a]);
        Run(acc, "a / 3", t => t[0] / 3f, x => x[0].Select(p => p / 3).ToArray(), [a]);
        Run(acc, "3 / b", t => 3f / t[0], x => x[0].Select(p => 3 / p).ToArray(), [b]);
    }

    [Fact]
    public void ScalarOperatorsRoundAsTheyRead()
    {
        // x / 3 is a true division (not x * (1/3), which differs in the last bit for many x), and x - c is x + (-c).
        var acc = TestAccelerators.Cpu;
        float[] x = [1f, 2f, 5f, 7f, 10f, 0.1f, 1e-3f, 123.456f];
        using var scope = new TensorScope();
        var t = Tensor.FromArray(acc, x, [x.Length]);
        Assert.Equal(x.Select(v => v / 3f).ToArray(), (t / 3f).ToArray());
        Assert.Equal(x.Select(v => v - 0.7f).ToArray(), (t - 0.7f).ToArray());
        Assert.Equal(x.Select(v => 0.7f - v).ToArray(), (0.7f - t).ToArray());
        Assert.Equal(x.Select(v => 3f / v).ToArray(), (3f / t).ToArray());
    }

    [Fact]
    public void ToStringShowsShapeTypeAcceleratorNameAndAPreview()
    {
        var acc = TestAccelerators.Cpu;
        using var small = Tensor.FromArray(acc, [0.5f, -1f, 2f, 3.25f], [2, 2], requiresGrad: true);
        small.Name = "w";
        Assert.Equal($"Tensor[2, 2] Float32 on {acc} 'w' requires grad: [0.5, -1, 2, 3.25]", small.ToString());
        using var large = Tensor.FromArray(acc, Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), [4, 5]);
        Assert.Equal($"Tensor[4, 5] Float32 on {acc}: [0, 1, 2, 3, 4, 5, 6, 7, ... (20 values)]", large.ToString());
        using var labels = Tensor.FromArray(acc, [3, 1], [2]);
        Assert.EndsWith("Int32 on " + acc + ": [3, 1]", labels.ToString());
        var gone = Tensor.Zeros(acc, [1]);
        gone.Dispose();
        Assert.EndsWith("(disposed)", gone.ToString());
    }

    [Fact]
    public void MultidimensionalArraysGoInAndFlattenToComesOut()
    {
        var acc = TestAccelerators.Cpu;
        using var matrix = Tensor.FromArray(acc, new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new Shape(2, 3), matrix.Shape);
        var flat = new float[6];
        matrix.FlattenTo(flat);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], flat);
        using var batch = Tensor.FromArray(acc, new float[1, 2, 2, 1] { { { { 1 }, { 2 } }, { { 3 }, { 4 } } } });
        Assert.Equal(new Shape(1, 2, 2, 1), batch.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], batch.ToArray());
        var e = Assert.Throws<ArgumentException>(() => matrix.FlattenTo(new float[5]));
        Assert.Contains("has 6 values but the destination holds 5", e.Message);
    }

    [Fact]
    public void AcceleratorsByKindOwnTheirContext()
    {
        var cpu = Accelerators.Create("cpu", out string description);
        Assert.Equal(AcceleratorType.CPU, cpu.AcceleratorType);
        Assert.StartsWith("CPU ", description);
        var context = cpu.Context;
        cpu.Dispose();
        Assert.True(context.IsDisposed, "disposing an accelerator made by kind disposes its context");

        using (var ilgpu = Accelerators.Create("ilgpu-cpu"))
            Assert.IsType<GpuDeconv.Compute.Ilgpu.IlgpuAccelerator>(ilgpu);
        Assert.Contains("ilgpu-cuda", Accelerators.Kinds);

        var unknown = Assert.Throws<ArgumentException>(() => Accelerators.Create("tpu"));
        Assert.Contains("Unknown accelerator kind 'tpu'; expected one of auto, cuda, opencl, cpu, ilgpu-cuda", unknown.Message);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "GpuDeconv.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No GpuDeconv.sln above {AppContext.BaseDirectory}.");
    }
}
