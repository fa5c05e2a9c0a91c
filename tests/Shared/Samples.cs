using System.Reflection;

namespace GpuDeconv.Testing;

/// <summary>Runs a sample program (a referenced project) in-process, as its users run it, capturing what it prints.</summary>
public static class Samples
{
    /// <summary>The exit code and standard output of the entry point of the assembly <paramref name="assembly"/> run with <paramref name="args"/>.</summary>
    public static (object? ExitCode, string Output) Run(string assembly, params string[] args)
    {
        var entryPoint = Assembly.Load(assembly).EntryPoint ?? throw new InvalidOperationException($"{assembly} has no entry point.");
        var output = new StringWriter();
        var console = Console.Out;
        // Console output is process-wide: samples run one at a time.
        lock (typeof(Samples))
        {
            Console.SetOut(output);
            try
            {
                return (entryPoint.Invoke(null, [args]), output.ToString());
            }
            finally
            {
                Console.SetOut(console);
            }
        }
    }
}
