using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>A CUDA driver API call failed; the message names the call, the status and, where known, what to do.</summary>
public sealed class CudaException : Exception
{
    internal CudaException(string operation, int errorCode, string errorName, string message)
        : base(message)
    {
        Operation = operation;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The driver entry point that failed, e.g. <c>cuMemAlloc_v2</c>.</summary>
    public string Operation { get; }

    /// <summary>The CUresult value.</summary>
    public int ErrorCode { get; }

    /// <summary>The CUresult name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string ErrorName { get; }

    /// <summary>The single checking point of every driver call.</summary>
    internal static void Check(int result, string operation)
    {
        if (result != 0) throw Create(result, operation);
    }

    internal static CudaException Create(int result, string operation, string? context = null)
    {
        string name = Name(result);
        string description = Description(result);
        string message = $"{operation} failed: {name} ({result}): {description}.";
        if (context is not null) message += " " + context;
        string? hint = Hint(result);
        if (hint is not null) message += " Hint: " + hint;
        return new CudaException(operation, result, name, message);
    }

    internal static unsafe string Name(int result)
    {
        try
        {
            byte* text = null;
            if (CudaApi.cuGetErrorName(result, &text) == 0 && text != null)
                return Marshal.PtrToStringUTF8((nint)text) ?? FallbackName(result);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return FallbackName(result);
    }

    private static unsafe string Description(int result)
    {
        try
        {
            byte* text = null;
            if (CudaApi.cuGetErrorString(result, &text) == 0 && text != null)
                return Marshal.PtrToStringUTF8((nint)text) ?? "unknown error";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return "no description available";
    }

    private static string FallbackName(int result) => result switch
    {
        1 => "CUDA_ERROR_INVALID_VALUE",
        2 => "CUDA_ERROR_OUT_OF_MEMORY",
        3 => "CUDA_ERROR_NOT_INITIALIZED",
        4 => "CUDA_ERROR_DEINITIALIZED",
        34 => "CUDA_ERROR_STUB_LIBRARY",
        35 => "CUDA_ERROR_INSUFFICIENT_DRIVER",
        46 => "CUDA_ERROR_DEVICES_UNAVAILABLE",
        100 => "CUDA_ERROR_NO_DEVICE",
        101 => "CUDA_ERROR_INVALID_DEVICE",
        200 => "CUDA_ERROR_INVALID_IMAGE",
        201 => "CUDA_ERROR_INVALID_CONTEXT",
        209 => "CUDA_ERROR_NO_BINARY_FOR_GPU",
        218 => "CUDA_ERROR_INVALID_PTX",
        222 => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        400 => "CUDA_ERROR_INVALID_HANDLE",
        500 => "CUDA_ERROR_NOT_FOUND",
        700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
        701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        702 => "CUDA_ERROR_LAUNCH_TIMEOUT",
        715 => "CUDA_ERROR_ILLEGAL_INSTRUCTION",
        716 => "CUDA_ERROR_MISALIGNED_ADDRESS",
        719 => "CUDA_ERROR_LAUNCH_FAILED",
        803 => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        804 => "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        999 => "CUDA_ERROR_UNKNOWN",
        _ => "CUDA_ERROR_" + result.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string? Hint(int result) => result switch
    {
        2 => "the device is out of memory" + FreeMemoryText() + "; dispose unused buffers (or wait for their finalizers) and retry with smaller sizes.",
        34 => "the loaded libcuda.so.1 is the toolkit's stub library, not the driver's; put the real driver library first on the loader path.",
        35 => "the NVIDIA driver is older than this CUDA feature requires; update the driver.",
        100 => "no CUDA device is visible: check nvidia-smi, CUDA_VISIBLE_DEVICES and the container's GPU flags.",
        209 => "the module has no code for this GPU: NVRTC compiled for a different architecture (its --gpu-architecture must be <= the device's compute capability with the same major); set GPUDECONV_NVRTC_PATH to an NVRTC that supports this GPU.",
        218 or 222 => "the PTX was produced by an NVRTC newer than the driver can JIT; we emit CUBIN to avoid this, so use an NVRTC whose major version the driver supports (GPUDECONV_NVRTC_PATH) or update the driver.",
        700 or 715 or 716 or 719 => "a kernel faulted (often an index outside a view). The error is sticky: this context, and every buffer and kernel on it, is now unusable; recreate the process. Run with compute-sanitizer to find the faulting access.",
        701 => "the launch asked for more threads per group or shared memory than this kernel can use (registers); use a smaller group size.",
        702 => "the kernel ran longer than the display watchdog allows; split the work into smaller launches.",
        803 or 804 => "the user-mode driver (libcuda) and the kernel module disagree; check the driver installation.",
        _ => null,
    };

    private static unsafe string FreeMemoryText()
    {
        try
        {
            nuint free, total;
            if (CudaApi.cuMemGetInfo_v2(&free, &total) == 0)
                return $" ({(ulong)free / (1024.0 * 1024.0):F0} MiB free of {(ulong)total / (1024.0 * 1024.0):F0} MiB)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return string.Empty;
    }
}

/// <summary>An NVRTC call failed; the message names the call and the status.</summary>
public sealed class NvrtcException : Exception
{
    internal NvrtcException(string operation, int errorCode, string message)
        : base(message)
    {
        Operation = operation;
        ErrorCode = errorCode;
    }

    /// <summary>The NVRTC entry point that failed, e.g. <c>nvrtcCompileProgram</c>.</summary>
    public string Operation { get; }

    /// <summary>The nvrtcResult value.</summary>
    public int ErrorCode { get; }

    /// <summary>The single checking point of every NVRTC call.</summary>
    internal static void Check(int result, string operation)
    {
        if (result != 0) throw Create(result, operation);
    }

    internal static NvrtcException Create(int result, string operation)
    {
        string name = Name(result);
        string message = $"{operation} failed: {name} ({result}).";
        if (result == 7)
            message += " Hint: NVRTC could not load libnvrtc-builtins; put the directory of the NVRTC in use on LD_LIBRARY_PATH.";
        return new NvrtcException(operation, result, message);
    }

    internal static unsafe string Name(int result)
    {
        try
        {
            byte* text = NvrtcApi.nvrtcGetErrorString(result);
            if (text != null) return Marshal.PtrToStringUTF8((nint)text) ?? FallbackName(result);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return FallbackName(result);
    }

    private static string FallbackName(int result) => result switch
    {
        1 => "NVRTC_ERROR_OUT_OF_MEMORY",
        2 => "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
        3 => "NVRTC_ERROR_INVALID_INPUT",
        4 => "NVRTC_ERROR_INVALID_PROGRAM",
        5 => "NVRTC_ERROR_INVALID_OPTION",
        6 => "NVRTC_ERROR_COMPILATION",
        7 => "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
        11 => "NVRTC_ERROR_INTERNAL_ERROR",
        _ => "NVRTC_ERROR_" + result.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
