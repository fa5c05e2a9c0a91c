using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>The kernel loaders of <see cref="Accelerator"/> come from <see cref="LoaderGenerator"/> at build time.</summary>
public class LoaderGeneratorTests
{
    [Theory]
    [InlineData("GpuDeconv.Compute", true)]
    [InlineData("GpuDeconv.Kernels", false)]
    [InlineData("MyModel", false)]
    public void Loaders_are_generated_into_GpuDeconv_Compute_only(string assembly, bool expected)
    {
        var compilation = CSharpCompilation.Create(assembly);
        var result = CSharpGeneratorDriver.Create(new LoaderGenerator()).RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult();
        Assert.Equal(expected, result.GeneratedTrees.Any(t => t.FilePath.EndsWith("Accelerator.Loaders.g.cs", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_arity_gets_every_loader_shape()
    {
        string text = LoaderGenerator.Text();
        // 14 implicit arities (index + 0..13) x 6 members, 14 explicit arities (1..14) x 4 members.
        Assert.Equal(14 * 6 + 14 * 4, text.Split('\n').Count(line => line.StartsWith("    public ", StringComparison.Ordinal)));
        string t13 = string.Join(", ", Enumerable.Range(1, 13).Select(i => "T" + i));
        string t14 = t13 + ", T14";
        Assert.Contains("public Action<AcceleratorStream, TIndex, " + t13 + "> LoadImplicitlyGroupedKernel<TIndex, " + t13 + ">(Action<TIndex, " + t13 + "> kernel, int groupSize)", text, StringComparison.Ordinal);
        Assert.Contains("public void Launch<" + t14 + ">(Action<" + t14 + "> kernel, AcceleratorStream stream, KernelConfig config, ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_runtime_assembly_carries_the_generated_loaders()
    {
        var methods = typeof(Accelerator).GetMethods();
        foreach (string name in new[] { "LoadAutoGroupedStreamKernel", "LoadAutoGroupedKernel", "LoadImplicitlyGroupedStreamKernel", "LoadImplicitlyGroupedKernel", "LoadStreamKernel", "LoadKernel" })
            Assert.Equal(14, methods.Count(m => m.Name == name));
        Assert.Equal(28, methods.Count(m => m.Name == "Launch")); // with and without a stream
        Assert.Equal(28, methods.Count(m => m.Name == "LaunchAutoGrouped"));
    }
}
