using System.Text.RegularExpressions;
using GpuDeconv.Compute;
using GpuDeconv.Training;

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

    // The data sets' files have fixed names (IDX: *-idx1-ubyte, *-idx3-ubyte, plain or .gz; CIFAR-10: data_batch_<n>.bin,
    // test_batch.bin, batches.meta.txt); an InvalidDataException naming none of them is about a checkpoint.
    private static readonly Regex DataFileName = new(@"-idx\d-ubyte|(data|test)_batch(_\d+)?\.bin|batches\.meta\.txt", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>What to do about a damaged data set file: the same advice wherever it is found.</summary>
    internal const string DamagedDataAdvice =
        "Install or download the data set again (bash tools/setup.sh installs Fashion-MNIST; remove the damaged CIFAR-10 files and gpudeconv train --dataset auto downloads them), or give a --data-dir that holds an intact copy.";

    private static string DamagedFileAdvice(string message) => DataFileName.IsMatch(message)
        ? DamagedDataAdvice
        : message.StartsWith("ONNX model ", StringComparison.Ordinal) || message.StartsWith("VGG safetensors ", StringComparison.Ordinal)
            ? "Export or download the model again (ONNX with its weights inside the file), or check that the path names the model."
        : ImageFile.Extensions.Any(e => message.Contains(e + ":", StringComparison.OrdinalIgnoreCase) || message.Contains(e + " ", StringComparison.OrdinalIgnoreCase))
            ? "Give an intact PNG, JPEG, WebP or BMP file (re-save it with an image editor if it is damaged)."
        : "Give another checkpoint (an earlier checkpoint-<step>.safetensors of the run, from gpudeconv train), restore it from a copy, or train again.";

    /// <summary>The one line and exit code for an expected failure, or null for a bug (which keeps its stack trace).</summary>
    internal static (string Line, int ExitCode)? DescribeFailure(Exception exception)
    {
        switch (exception)
        {
            case AggregateException aggregate when aggregate.Flatten().InnerExceptions is [var only]:
                return DescribeFailure(only);
            // A writer that failed earlier (the event file's timer flush on a full disk) throws on its next use, with the
            // failure inside: the failure is what the user acts on.
            case InvalidOperationException { InnerException: (IOException or UnauthorizedAccessException) and var inner }:
                return DescribeFailure(inner);
            case InvalidDataException e:
                return ($"error: {Sentence(e.Message)} {DamagedFileAdvice(e.Message)}", MissingInput);
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
            // cuMemAlloc's and clCreateBuffer's answer when the device's memory is used up.
            case CudaException { ErrorName: "CUDA_ERROR_OUT_OF_MEMORY" } or CLException { StatusName: "CL_MEM_OBJECT_ALLOCATION_FAILURE" }:
                return ($"error: out of device memory: {Sentence(exception.Message)} Use a smaller --batch-size, or another --accelerator.", DeviceError);
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
