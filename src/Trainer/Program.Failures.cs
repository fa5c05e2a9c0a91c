using GpuDeconv.Compute;

namespace GpuDeconv.Trainer;

// Expected failures end in one line that names the file or resource, what is wrong and what to do; the stack trace is
// for bugs only. What the user already had stays intact: checkpoints and PNGs are written to a temporary file and
// renamed (AtomicFile), so a failed write leaves the last complete one, and event files hold whole records up to the
// last flush.
public static partial class Program
{
    /// <summary>Exit code when a file could not be written or read: a full disk, a log directory without write permission.</summary>
    public const int FileError = 3;

    /// <summary>Exit code when the accelerator failed: out of device memory, a kernel that could not be built or run.</summary>
    public const int DeviceError = 4;

    // errno ENOSPC (Linux, macOS) and Windows' ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL.
    private static bool IsDiskFull(IOException e) => e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027) or 112 or 39
        || e.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase);

    /// <summary>The one line and exit code for an expected failure, or null for a bug (which keeps its stack trace).</summary>
    internal static (string Line, int ExitCode)? DescribeFailure(Exception exception)
    {
        switch (exception)
        {
            case AggregateException { InnerExceptions.Count: 1 } aggregate:
                return DescribeFailure(aggregate.InnerExceptions[0]);
            case InvalidDataException e:
                return ($"error: {Sentence(e.Message)} Give a checkpoint or data file written by the tools it comes from (checkpoint-<step>.safetensors from gpudeconv train), or restore it from a copy.", MissingInput);
            case NotSupportedException e:
                return ($"error: {Sentence(e.Message)} docs/reference/onnx-import.md lists what the importer runs; export the model with those operators.", MissingInput);
            case UnauthorizedAccessException e:
                return ($"error: {Sentence(e.Message)} Choose a --logdir (or --out) you can write to, or change its permissions.", FileError);
            case IOException e when IsDiskFull(e):
                return ($"error: the disk is full: {Sentence(e.Message)} The last complete checkpoint and the event files written so far are kept (temporary files are removed); free some space or give another --logdir, then continue with --resume.", FileError);
            case IOException e:
                return ($"error: {Sentence(e.Message)} Check that the path exists and is readable and writable.", FileError);
            case OutOfMemoryException e:
                return ($"error: out of memory: {Sentence(e.Message)} Use a smaller --batch-size, or another --accelerator.", DeviceError);
            case CudaException e:
                return ($"error: CUDA failed: {Sentence(e.Message)} Use a smaller --batch-size, or another --accelerator.", DeviceError);
            case CLException e:
                return ($"error: OpenCL failed: {Sentence(e.Message)} Use a smaller --batch-size, or another --accelerator.", DeviceError);
            case KernelCompilationException e:
                return ($"error: a kernel could not be built for this device: {Sentence(e.Message.Split('\n')[0])} Run 'gpudeconv devices', or use another --accelerator.", DeviceError);
            default:
                return null;
        }
    }

    private static string Sentence(string message)
    {
        string line = message.ReplaceLineEndings(" ").Trim();
        return line.EndsWith('.') ? line : line + ".";
    }
}
