namespace GpuDeconv.Compute;

/// <summary>An OpenCL call returned an error status; the message names the call, the status and a hint.</summary>
public sealed class CLException : Exception
{
    public CLException(string operation, int status)
        : base(Describe(operation, status))
    {
        Operation = operation;
        StatusCode = status;
    }

    public CLException(string operation, int status, string message)
        : base(message)
    {
        Operation = operation;
        StatusCode = status;
    }

    /// <summary>The OpenCL function that failed, e.g. <c>clBuildProgram</c>.</summary>
    public string Operation { get; }

    /// <summary>The raw <c>cl_int</c> status (negative).</summary>
    public int StatusCode { get; }

    /// <summary>The symbolic name of <see cref="StatusCode"/>, e.g. <c>CL_OUT_OF_RESOURCES</c>.</summary>
    public string StatusName => NameOf(StatusCode);

    /// <summary>The single checking point of every OpenCL call.</summary>
    internal static void Check(int status, string operation)
    {
        if (status != 0) throw new CLException(operation, status);
    }

    internal static string Describe(string operation, int status)
    {
        string text = $"{operation} failed with {NameOf(status)} ({status}).";
        string? hint = HintOf(status);
        return hint is null ? text : $"{text} {hint}";
    }

    internal static string NameOf(int status) => status switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -7 => "CL_PROFILING_INFO_NOT_AVAILABLE",
        -8 => "CL_MEM_COPY_OVERLAP",
        -9 => "CL_IMAGE_FORMAT_MISMATCH",
        -10 => "CL_IMAGE_FORMAT_NOT_SUPPORTED",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -12 => "CL_MAP_FAILURE",
        -13 => "CL_MISALIGNED_SUB_BUFFER_OFFSET",
        -14 => "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -15 => "CL_COMPILE_PROGRAM_FAILURE",
        -16 => "CL_LINKER_NOT_AVAILABLE",
        -17 => "CL_LINK_PROGRAM_FAILURE",
        -18 => "CL_DEVICE_PARTITION_FAILED",
        -19 => "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
        -30 => "CL_INVALID_VALUE",
        -31 => "CL_INVALID_DEVICE_TYPE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -35 => "CL_INVALID_QUEUE_PROPERTIES",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -37 => "CL_INVALID_HOST_PTR",
        -38 => "CL_INVALID_MEM_OBJECT",
        -39 => "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
        -40 => "CL_INVALID_IMAGE_SIZE",
        -41 => "CL_INVALID_SAMPLER",
        -42 => "CL_INVALID_BINARY",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -47 => "CL_INVALID_KERNEL_DEFINITION",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET",
        -57 => "CL_INVALID_EVENT_WAIT_LIST",
        -58 => "CL_INVALID_EVENT",
        -59 => "CL_INVALID_OPERATION",
        -60 => "CL_INVALID_GL_OBJECT",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -62 => "CL_INVALID_MIP_LEVEL",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -64 => "CL_INVALID_PROPERTY",
        -65 => "CL_INVALID_IMAGE_DESCRIPTOR",
        -66 => "CL_INVALID_COMPILER_OPTIONS",
        -67 => "CL_INVALID_LINKER_OPTIONS",
        -68 => "CL_INVALID_DEVICE_PARTITION_COUNT",
        -69 => "CL_INVALID_PIPE_SIZE",
        -70 => "CL_INVALID_DEVICE_QUEUE",
        -71 => "CL_INVALID_SPEC_ID",
        -72 => "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
        -1000 => "CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        -1057 => "CL_DEVICE_PARTITION_FAILED_EXT",
        -1058 => "CL_INVALID_PARTITION_COUNT_EXT",
        -1059 => "CL_INVALID_PARTITION_NAME_EXT",
        -1092 => "CL_INVALID_ACCELERATOR_INTEL",
        -1093 => "CL_INVALID_ACCELERATOR_TYPE_INTEL",
        -1094 => "CL_INVALID_ACCELERATOR_DESCRIPTOR_INTEL",
        -1095 => "CL_ACCELERATOR_TYPE_NOT_SUPPORTED_INTEL",
        -1098 => "CL_INVALID_VA_API_MEDIA_ADAPTER_INTEL",
        -1099 => "CL_INVALID_VA_API_MEDIA_SURFACE_INTEL",
        -1100 => "CL_VA_API_MEDIA_SURFACE_ALREADY_ACQUIRED_INTEL",
        -1101 => "CL_VA_API_MEDIA_SURFACE_NOT_ACQUIRED_INTEL",
        -1102 => "CL_INVALID_COMMAND_BUFFER_KHR",
        -1103 => "CL_INVALID_SYNC_POINT_WAIT_LIST_KHR",
        -1104 => "CL_INCOMPATIBLE_COMMAND_QUEUE_KHR",
        -9999 => "CL_NV_ILLEGAL_MEMORY_ACCESS",
        _ => "unknown OpenCL status",
    };

    private static string? HintOf(int status) => status switch
    {
        -1 => "No device of the requested type exists on this platform.",
        -3 or -16 => "The driver has no online compiler for this device.",
        -4 => "The device could not allocate the buffer: it is larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE or global memory is exhausted.",
        -5 => "The device ran out of resources; on GPUs this is often an out-of-bounds access in a kernel or too many registers per group.",
        -6 => "The OpenCL driver ran out of host memory.",
        -7 => "The command queue was created without CL_QUEUE_PROFILING_ENABLE or the command has not completed.",
        -11 or -15 or -17 => "See the build log for the compiler's message.",
        -30 => "An argument value is invalid for this call (size, pointer or flag).",
        -38 => "The buffer was released or belongs to another context.",
        -43 or -66 => "The build options are not supported by this device's compiler.",
        -45 => "The program has not been built successfully for this device.",
        -46 => "No __kernel function with this name exists in the program.",
        -49 or -50 or -51 => "The kernel arguments do not match the generated entry point (see docs/kernel-abi.md section 4).",
        -52 => "Not every kernel argument was set before the launch.",
        -54 => "The group size exceeds CL_KERNEL_WORK_GROUP_SIZE / CL_DEVICE_MAX_WORK_GROUP_SIZE or does not divide the global size.",
        -55 => "A group dimension exceeds CL_DEVICE_MAX_WORK_ITEM_SIZES.",
        -61 => "The buffer size is 0 or larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE.",
        -63 => "The global size exceeds the range of size_t on this device.",
        -1001 => "The ICD loader found no driver: register one in /etc/OpenCL/vendors (install pocl-opencl-icd or a GPU driver).",
        -9999 => "A kernel accessed memory out of bounds.",
        _ => null,
    };
}
