using Microsoft.CodeAnalysis;
using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>
/// Every construct outside the translatable subset is an error with a stable ID at the offending
/// node. Each case marks the expected start of the diagnostic with <c>/*!*/</c>.
/// </summary>
public class DiagnosticTests
{
    private const string Marker = "/*!*/";

    private const string Support = """
        public struct Pixel { public float R; public float G; public float Get() => R; }
        public struct Holder { public ArrayView<float> View; }
        public static class Support { public static int Counter; }
        """;

    public static TheoryData<string, string> Cases() => new()
    {
        // GD0001 reference-type locals and parameters
        { "GD0001", K("object /*!*/o = 1;") },
        { "GD0001", "[Kernel] public static void Bad(Index1D i, int[] /*!*/data) { }" },
        // GD0002 array creation
        { "GD0002", K("var a = /*!*/new int[4];") },
        // GD0003 exceptions
        { "GD0003", K("if (i < 0) /*!*/throw new InvalidOperationException();") },
        { "GD0003", K("/*!*/try { v[i] = 1; } finally { v[i] = 2; }") },
        // GD0004 foreach
        { "GD0004", K("/*!*/foreach (var x in new[] { 1, 2 }) v[i] += x;") },
        // GD0005 lambdas and local functions
        { "GD0005", K("Func<int, int> f = /*!*/x => x + 1;") },
        { "GD0005", K("/*!*/int Twice(int x) => x * 2; v[i] = Twice(v[i]);") },
        // GD0006 goto, checked, unsafe, stackalloc
        { "GD0006", K("/*!*/goto done; done: v[i] = 0;") },
        { "GD0006", K("int y = /*!*/checked(v[i] + 1);") },
        { "GD0006", K("/*!*/unsafe { v[i] = 1; }") },
        // GD0007 tuples, patterns, switch expressions
        { "GD0007", K("var t = /*!*/(1, 2);") },
        { "GD0007", K("if (/*!*/v[i] is 3) v[i] = 0;") },
        { "GD0007", K("v[i] = /*!*/v[i] switch { 1 => 2, _ => 3 };") },
        // GD0008 null operators
        { "GD0008", K("int? n = null; v[i] = /*!*/n ?? 1;") },
        // GD0009 untranslatable calls
        { "GD0009", K("var g = /*!*/Guid.NewGuid();") },
        { "GD0009", K("var p = new Pixel(); v[i] = (int)/*!*/p.Get();") },
        // GD0010 recursion
        { "GD0010", K("v[i] = Fact(v[i]);") + "\nstatic int Fact(int n) => n <= 1 ? 1 : n * /*!*/Fact(n - 1);" },
        // GD0011 ref/out on helpers
        { "GD0011", K("int x = 0; Bump(ref x); v[i] = x;") + "\nstatic void Bump(/*!*/ref int x) => x++;" },
        // GD0012 mutable statics
        { "GD0012", K("v[i] = /*!*/Support.Counter;") },
        // GD0013 kernel shape
        { "GD0013", "[Kernel] public static int /*!*/Bad(Index1D i) => 0;" },
        { "GD0013", "[Kernel] public static void /*!*/Bad<T>(Index1D i) { }" },
        // GD0014 shared memory rules
        { "GD0014", "[Kernel] public static void Bad(ArrayView<float> v, int n) { var s = /*!*/SharedMemory.Allocate<float>(n); s[0] = v[0]; }" },
        { "GD0014", K("var s = /*!*/SharedMemory.Allocate<float>(16); s[0] = 1f;") },
        // GD0015 unsupported intrinsics
        { "GD0015", K("v[i] = (int)/*!*/MathF.ScaleB(1f, 2);") },
        { "GD0015", "[Kernel] public static void Bad(ArrayView<float> v) { Help(v); }\nstatic void Help(ArrayView<float> v) { v[0] = /*!*/Group.BarrierPopCount(true); }" },
        // GD0016 strings and chars
        { "GD0016", K("string /*!*/s = \"x\";") },
        { "GD0016", K("char /*!*/c = 'a';") },
        // GD0017 unsupported forms
        { "GD0017", K("var p = new Pixel /*!*/{ R = 1f };") },
        // GD0018 views used in unsupported ways
        { "GD0018", K("var w = /*!*/Pick(v); w[0] = 1;") + "\nstatic ArrayView<int> Pick(ArrayView<int> a) => a;" },
        { "GD0018", "[Kernel] public static void Bad(Index1D i, Holder /*!*/h) { }" },
    };

    /// <summary>An implicit kernel over <c>ArrayView&lt;int&gt; v</c> whose body is <paramref name="body"/>.</summary>
    private static string K(string body) => "[Kernel] public static void Bad(Index1D i, ArrayView<int> v)\n{\n" + body + "\n}";

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unsupported_construct_is_reported_at_the_node(string id, string members)
    {
        string source = GeneratorHarness.Usings + Support + "\npublic static partial class Kernels\n{\n" + members + "\n}\n";
        int marker = source.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, "test case has no marker");
        int expected = marker + Marker.Length;
        var run = GeneratorHarness.Run(source);
        var ours = run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("GD", StringComparison.Ordinal)).ToList();
        Assert.All(ours, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.True(ours.Any(d => d.Id == id && d.Location.SourceSpan.Start == expected),
            $"expected {id} at offset {expected} ({Describe(source, expected)}), got:\n" +
            string.Join("\n", ours.Select(d => d.Id + " at " + Describe(source, d.Location.SourceSpan.Start) + ": " + d.GetMessage())));
        Assert.DoesNotContain(ours, d => d.Id == "GD9999");
        // A kernel with errors is not registered, so the build fails at the diagnostic rather than at run time.
        Assert.True(run.GeneratedCSharp == null || !run.GeneratedCSharp.Contains("\"Bad\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Messages_say_what_to_write_instead()
    {
        var run = GeneratorHarness.RunKernels(K("var a = new int[4]; a[0] = 1;"));
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "GD0002");
        Assert.Contains("SharedMemory.Allocate", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(7, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void Clean_kernels_next_to_a_broken_one_are_still_registered()
    {
        var run = GeneratorHarness.RunKernels(K("object o = 1;") + "\n[Kernel] public static void Good(Index1D i, ArrayView<int> v) { v[i] = 1; }");
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "GD0001");
        Assert.Contains("Good", run.OpenCLSources.Keys);
        Assert.DoesNotContain("Bad", run.OpenCLSources.Keys);
    }

    private static string Describe(string source, int offset)
    {
        int line = source.Take(offset).Count(c => c == '\n') + 1;
        int column = offset - source.LastIndexOf('\n', Math.Max(0, offset - 1));
        string snippet = source.Substring(offset, Math.Min(24, source.Length - offset)).Replace('\n', ' ');
        return $"line {line}, column {column}, '{snippet}'";
    }
}
