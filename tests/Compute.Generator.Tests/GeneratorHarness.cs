using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>The outcome of running the generator on one source file.</summary>
public sealed record GeneratorRun(
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics,
    string? GeneratedCSharp,
    IReadOnlyDictionary<string, string> CudaSources,
    IReadOnlyDictionary<string, string> OpenCLSources,
    string? SplitCSharp)
{
    /// <summary>The OpenCL source of the only (or the named) kernel.</summary>
    public string OpenCL(string? entry = null) => entry == null ? OpenCLSources.Values.Single() : OpenCLSources[entry];

    public string Cuda(string? entry = null) => entry == null ? CudaSources.Values.Single() : CudaSources[entry];
}

/// <summary>Compiles a source against GpuDeconv.Compute and runs <see cref="KernelGenerator"/> on it.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(Accelerator).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public const string Usings = "using System;\nusing GpuDeconv.Compute;\n";

    /// <summary>The compilation (with generated code) of the most recent <see cref="Run"/> on this thread.</summary>
    [ThreadStatic]
    public static Compilation? LastCompilation;

    /// <summary>Runs the generator on <paramref name="source"/> (file name Kernels.cs); usings are not added.</summary>
    public static GeneratorRun Run(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview), path: "Kernels.cs");
        var compilation = CSharpCompilation.Create("KernelTests", new[] { tree }, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        var driver = CSharpGeneratorDriver.Create(new[] { new KernelGenerator().AsSourceGenerator() },
            parseOptions: (CSharpParseOptions)tree.Options);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var generated = output.SyntaxTrees.FirstOrDefault(t => t.FilePath.EndsWith("GpuDeconv.Kernels.g.cs", StringComparison.Ordinal));
        var cuda = new Dictionary<string, string>();
        var openCL = new Dictionary<string, string>();
        if (generated != null)
        {
            var root = generated.GetRoot();
            var constants = root.DescendantNodes().OfType<VariableDeclaratorSyntax>()
                .Where(v => v.Initializer?.Value is LiteralExpressionSyntax)
                .ToDictionary(v => v.Identifier.ValueText, v => ((LiteralExpressionSyntax)v.Initializer!.Value).Token.ValueText);
            // Map each source constant to its kernel's entry point through the registration call.
            foreach (var call in root.DescendantNodes().OfType<ObjectCreationExpressionSyntax>())
            {
                var args = call.ArgumentList!.Arguments;
                if (args.Count < 10) continue;
                string entry = ((LiteralExpressionSyntax)args[2].Expression).Token.ValueText;
                cuda[entry] = constants[((IdentifierNameSyntax)args[6].Expression).Identifier.ValueText];
                openCL[entry] = constants[((IdentifierNameSyntax)args[7].Expression).Identifier.ValueText];
            }
        }
        LastCompilation = output;
        var compileDiagnostics = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        var split = output.SyntaxTrees.FirstOrDefault(t => t.FilePath.EndsWith("GpuDeconv.Kernels.Split.g.cs", StringComparison.Ordinal));
        return new GeneratorRun(diagnostics, compileDiagnostics, generated?.ToString(), cuda, openCL, split?.ToString());
    }

    /// <summary>Wraps kernel members in a static class Kernels with the usual usings; the first member starts on line 5.</summary>
    public static GeneratorRun RunKernels(string members) =>
        Run(Usings + "public static partial class Kernels\n{\n" + members + "\n}\n");
}
