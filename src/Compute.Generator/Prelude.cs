using System;
using System.IO;
using System.Text;

namespace GpuDeconv.Compute.Generator;

/// <summary>
/// The C prelude every generated program starts with. One text serves NVRTC (CUDA C++) and
/// OpenCL C 1.2; the branches differ only in spelling. Everything the translator emits beyond
/// plain C operators goes through a <c>gd_</c>/<c>GD_</c> name defined here, so the emitted
/// bodies read the same on both targets. The text is C, so it lives in <c>Prelude.h</c>, embedded in this assembly.
/// </summary>
/// <remarks>
/// C# semantics kept here (docs/kernel-abi.md section 6): signed + - * and left shifts wrap
/// (done in unsigned arithmetic), float-to-integer conversions saturate with NaN giving 0,
/// Math.Min/Max propagate NaN and order -0 below +0, and float/double atomics are CAS loops
/// that return the true old value.
/// </remarks>
internal static class Prelude
{
    private const string ResourceName = "GpuDeconv.Compute.Generator.Prelude.h";

    /// <summary>The text, with <c>\n</c> line ends whatever the checkout's, so generated programs never depend on them.</summary>
    public static string Text { get; } = Read();

    private static string Read()
    {
        using var stream = typeof(Prelude).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException("The generator assembly lacks its embedded resource " + ResourceName + ".");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().Replace("\r\n", "\n");
    }
}
