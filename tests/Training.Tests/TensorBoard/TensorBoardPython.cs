using System.Diagnostics;

namespace GpuDeconv.Training.Tests;

/// <summary>Finds a python3 that can import tensorboard, and runs tools/tensorboard_check.py with it.</summary>
internal static class TensorBoardPython
{
    /// <summary>The python3 on PATH when it imports tensorboard; else null and why.</summary>
    public static string? Find(out string reason)
    {
        var (code, output) = Run("python3", ["-c", "import tensorboard; print(tensorboard.__version__)"], TimeSpan.FromSeconds(60));
        reason = code == 0 ? "" : $"the tensorboard Python package is not importable by python3 on PATH ({(code < 0 ? "no python3" : output.Trim().Split('\n')[^1])}); pip install tensorboard to run this check";
        return code == 0 ? "python3" : null;
    }

    /// <summary>tools/tensorboard_check.py on <paramref name="logdir"/> with the expected tags; its exit code and stdout + stderr.</summary>
    public static (int ExitCode, string Output) RunCheck(string python, string logdir, string expect)
    {
        string script = Path.Combine(RepositoryRoot(), "tools", "tensorboard_check.py");
        return Run(python, [script, logdir, "--expect", expect, "--timeout", "120"], TimeSpan.FromMinutes(4));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tools", "tensorboard_check.py"))) return dir.FullName;
        throw new InvalidOperationException($"tools/tensorboard_check.py not found above {AppContext.BaseDirectory}.");
    }

    private static (int ExitCode, string Output) Run(string file, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-2, $"timed out after {timeout}");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}
