using System.Diagnostics;
using GpuDeconv.Training;
using GpuDeconv.Training.Tests;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary>Expected failures of the command line: one line each, a non-zero exit, and nothing the user had lost.</summary>
public sealed class FailureTests
{
    internal static void AssertOneLine(ProgramTests.Outcome outcome, int exitCode, string start)
    {
        Assert.True(outcome.ExitCode == exitCode, $"exit {outcome.ExitCode}, expected {exitCode}: {outcome.Error}");
        var lines = outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + outcome.Error);
        Assert.StartsWith(start, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ADamagedCheckpointIsOneLineNamingTheFile()
    {
        using var temp = new TempDirectory();
        string file = temp["checkpoint-00000001.safetensors"];
        File.WriteAllBytes(file, [0, 0, 0, 0, 0, 0, 0xff, 0, .. "garbage"u8]);

        var outcome = ProgramTests.Run("evaluate", "--checkpoint", file, "--accelerator", "cpu");

        AssertOneLine(outcome, Program.MissingInput, $"error: {file}: not a valid safetensors file");
    }

    [Fact]
    public void ADamagedDataFileIsOneLineNamingTheFileAndHowToGetItAgain()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 4, test: 2);
        string file = Path.Combine(temp["data"], "train-images-idx3-ubyte");
        byte[] whole = File.ReadAllBytes(file);
        File.WriteAllBytes(file, whole[..(whole.Length - 100)]);

        var outcome = ProgramTests.Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "cpu",
            "--steps", "1", "--batch-size", "2", "--logdir", temp["run"]);

        AssertOneLine(outcome, Program.MissingInput, "error: cannot load mnist: ");
        Assert.Contains(file, outcome.Error, StringComparison.Ordinal);
        Assert.Contains("tools/setup.sh", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("checkpoint", outcome.Error, StringComparison.Ordinal);
    }

    // The failures that cannot be made on demand here (a disk that fills between two flushes, a device out of memory)
    // are the exceptions the event writer and the accelerators throw, given to the one place that describes failures.

    private static (string Line, int ExitCode) Describe(Exception exception)
    {
        var described = Program.DescribeFailure(exception);
        Assert.True(described is not null, $"{exception.GetType().Name} is described as a bug (a stack trace): {exception}");
        var (line, code) = described.Value;
        Assert.DoesNotContain('\n', line);
        return (line, code);
    }

    [Fact]
    public void ADiskThatFillsBetweenEventFileFlushesIsTheDiskFullLine()
    {
        const string events = "/runs/a/events.out.tfevents.1700000000.host.1.1";
        var full = new IOException($"No space left on device : '{events}'", 28);
        // EventFileWriter keeps a failed timer flush and throws it, wrapped, from the next write.
        var wrapped = new InvalidOperationException($"EventFileWriter: an earlier write or flush of '{events}' failed, so no more records are written to it.", full);

        foreach (var exception in new Exception[] { wrapped, new AggregateException(wrapped), new AggregateException(new AggregateException(full)) })
        {
            var (line, code) = Describe(exception);
            Assert.Equal(Program.FileError, code);
            Assert.StartsWith("error: the disk is full: ", line, StringComparison.Ordinal);
            Assert.Contains(events, line, StringComparison.Ordinal);
        }
        Assert.Null(Program.DescribeFailure(new InvalidOperationException("a bug", new ArgumentException("inner"))));
    }

    [Fact]
    public void TheAdviceForADamagedFileFitsItsKind()
    {
        var (data, dataCode) = Describe(new InvalidDataException("/data/cifar-10-batches-bin/data_batch_3.bin: 1000 bytes is not a whole number of 3073-byte records."));
        Assert.Equal(Program.MissingInput, dataCode);
        Assert.Contains("tools/setup.sh", data, StringComparison.Ordinal);
        Assert.DoesNotContain("checkpoint", data, StringComparison.Ordinal);

        var (idx, _) = Describe(new InvalidDataException("/data/t10k-labels-idx1-ubyte.gz: corrupt gzip data (bad header)."));
        Assert.Contains("tools/setup.sh", idx, StringComparison.Ordinal);

        var (checkpoint, checkpointCode) = Describe(new InvalidDataException("/runs/a/checkpoints/checkpoint-00000100.safetensors: not a valid safetensors file: the header ends early."));
        Assert.Equal(Program.MissingInput, checkpointCode);
        Assert.Contains("another checkpoint", checkpoint, StringComparison.Ordinal);
        Assert.DoesNotContain("tools/setup.sh", checkpoint, StringComparison.Ordinal);
    }

    [Fact]
    public void OutOfDeviceMemoryIsOneLineWithExitCodeFour()
    {
        // clCreateBuffer's answer on a full device; ILGPU's accelerators throw OutOfMemoryException.
        var (cl, clCode) = Describe(new GpuDeconv.Compute.CLException("clCreateBuffer(4294967296 bytes)", -4));
        Assert.Equal(Program.DeviceError, clCode);
        Assert.StartsWith("error: out of device memory: clCreateBuffer(4294967296 bytes)", cl, StringComparison.Ordinal);
        Assert.Contains("--batch-size", cl, StringComparison.Ordinal);

        var (ilgpu, ilgpuCode) = Describe(new OutOfMemoryException("ilgpu-cuda: ILGPU could not allocate 4294967296 bytes: CudaException: out of memory"));
        Assert.Equal(Program.DeviceError, ilgpuCode);
        Assert.StartsWith("error: out of memory: ", ilgpu, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnwritableLogDirectoryIsOneLine()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 4, test: 2);
        string file = temp["not-a-directory"];
        File.WriteAllText(file, "a file where the log directory should go");

        var outcome = ProgramTests.Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "cpu",
            "--steps", "1", "--batch-size", "2", "--logdir", Path.Combine(file, "run"));

        AssertOneLine(outcome, Program.FileError, "error: ");
        Assert.Contains("not-a-directory", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("a file where the log directory should go", File.ReadAllText(file));
    }

    [Fact]
    public void AFullDiskIsOneLineAndKeepsTheLastCheckpointReadableEventsAndNoTemporaryFiles()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 8, test: 4);
        string small = temp["small"];
        Directory.CreateDirectory(small);
        // A 1400 KB file system: the first LeNet-5 checkpoint (about 740 KB with Adam's moments) and the event file fit,
        // the second checkpoint does not.
        if (Mount(small, "1400k") is { } why) Assert.Skip($"needs a small tmpfs to fill (mount as root): {why}");
        try
        {
            string run = Path.Combine(small, "run");
            var outcome = ProgramTests.Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "cpu",
                "--steps", "40", "--batch-size", "4", "--checkpoint-every", "5", "--image-every", "5", "--log-every", "5", "--logdir", run);

            AssertOneLine(outcome, Program.FileError, "error: the disk is full");
            Assert.Empty(Directory.GetFiles(small, "*.tmp", SearchOption.AllDirectories));
            var checkpoints = new CheckpointDirectory(Path.Combine(run, "checkpoints")).List();
            Assert.Equal(5, Assert.Single(checkpoints).Step);
            var events = Assert.Single(Directory.GetFiles(run, "events.out.tfevents.*"));
            var contents = EventFileReader.Read(events);
            Assert.True(contents.End is ReadEnd.CleanEof or ReadEnd.TruncatedTail, $"the event file ends in {contents.End}");
            Assert.Contains(contents.Events, e => e.Summary?.Value.Any(v => v.Tag == "loss") == true);

            var evaluate = ProgramTests.Run("evaluate", "--checkpoint", run, "--data-dir", temp["data"], "--accelerator", "cpu");
            Assert.True(evaluate.ExitCode == 0, evaluate.Error);
            Assert.Contains("(step 5): test accuracy", evaluate.Output, StringComparison.Ordinal);
        }
        finally
        {
            Unmount(small);
        }
    }

    private static string? Mount(string directory, string size)
    {
        try
        {
            var (code, text) = Exec("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", directory);
            return code == 0 ? null : $"mount exited {code}: {text.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }

    private static void Unmount(string directory) => Exec("umount", directory);

    private static (int Code, string Output) Exec(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}

/// <summary>The real entry point with its output in a pipe, as a log file or CI sees it.</summary>
public sealed class PipedOutputTests
{
    [Fact]
    public async Task ProgressToAPipeIsPlainLinesWithoutEscapeSequences()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 8, test: 4);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { typeof(Program).Assembly.Location, "train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"],
                     "--accelerator", "cpu", "--steps", "4", "--batch-size", "4", "--log-every", "2", "--image-every", "100", "--checkpoint-every", "0", "--logdir", temp["run"] })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, await stderr + stdout);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.Contains("step 2/4", stdout, StringComparison.Ordinal);
        Assert.Contains("test accuracy", stdout, StringComparison.Ordinal);
    }
}
