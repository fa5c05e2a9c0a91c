using System.Text;
using System.Text.RegularExpressions;

namespace GpuDeconv.Compute;

/// <summary>A backend compiler (OpenCL or NVRTC) rejected a kernel's generated source; the message carries the build log and the C# location.</summary>
public sealed partial class KernelCompilationException : Exception
{
    public KernelCompilationException(string kernelName, string location, string backend, string buildLog, string generatedSource, Exception? innerException = null)
        : base(Compose(kernelName, location, backend, buildLog, generatedSource), innerException)
    {
        KernelName = kernelName;
        Location = location;
        Backend = backend;
        BuildLog = buildLog;
        GeneratedSource = generatedSource;
    }

    /// <summary>The kernel's display name, e.g. <c>Program.Saxpy</c>.</summary>
    public string KernelName { get; }

    /// <summary>Where the kernel is declared in C#, <c>File.cs:line</c>.</summary>
    public string Location { get; }

    /// <summary>The compiler that failed, e.g. <c>OpenCL (pocl 3.1)</c>.</summary>
    public string Backend { get; }

    /// <summary>The compiler's log, verbatim.</summary>
    public string BuildLog { get; }

    /// <summary>The generated C source that was compiled.</summary>
    public string GeneratedSource { get; }

    private static string Compose(string kernelName, string location, string backend, string buildLog, string generatedSource)
    {
        var text = new StringBuilder()
            .Append($"Kernel {kernelName} (declared at {location}) failed to compile for {backend}. ")
            .Append("Line numbers in the log refer to the generated source (GeneratedSource); its '// File.cs:line' markers map them back to C#.");
        string mapped = MapErrorLines(buildLog, generatedSource);
        if (mapped.Length > 0) text.AppendLine().Append("In C#: ").Append(mapped);
        text.AppendLine().AppendLine("Build log:")
            .Append(string.IsNullOrWhiteSpace(buildLog) ? "(the compiler produced no log)" : buildLog);
        return text.ToString();
    }

    // clang-based compilers write "<source>:12:5: error: ..." (pocl: "error: /path/x.cl:12:5: ..."), NVRTC "kernel.cu(12): error".
    [GeneratedRegex(@":(\d+):\d+:")]
    private static partial Regex ClangLine();

    [GeneratedRegex(@"\((\d+)\):")]
    private static partial Regex NvrtcLine();

    [GeneratedRegex(@"//\s*([^\s/]+\.cs:\d+)")]
    private static partial Regex Marker();

    /// <summary>Maps the generated-source lines named by errors in the log to the nearest preceding C# marker.</summary>
    private static string MapErrorLines(string buildLog, string generatedSource)
    {
        if (string.IsNullOrEmpty(buildLog) || string.IsNullOrEmpty(generatedSource)) return string.Empty;
        string[] lines = generatedSource.Split('\n');
        var found = new List<string>();
        foreach (string logLine in buildLog.Split('\n'))
        {
            if (!logLine.Contains("error", StringComparison.OrdinalIgnoreCase)) continue;
            var match = ClangLine().Match(logLine);
            if (!match.Success) match = NvrtcLine().Match(logLine);
            if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out int line) || line < 1 || line > lines.Length) continue;
            for (int i = line - 1; i >= 0; i--)
            {
                var marker = Marker().Match(lines[i]);
                if (!marker.Success) continue;
                string entry = $"generated line {line} -> {marker.Groups[1].Value}";
                if (!found.Contains(entry)) found.Add(entry);
                break;
            }
        }
        return string.Join("; ", found);
    }
}
