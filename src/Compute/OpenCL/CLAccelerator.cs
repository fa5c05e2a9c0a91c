using System.Diagnostics;

namespace GpuDeconv.Compute;

/// <summary>An OpenCL device made ready for use: one context, an in-order profiling queue per stream, kernels built from the generated OpenCL C.</summary>
public sealed class CLAccelerator : Accelerator
{
    private readonly CLStream _defaultStream;
    private readonly List<CLStream> _streams = [];
    private readonly List<CLKernel> _kernels = [];
    private readonly Lock _lock = new();
    private readonly string _buildOptions;
    private readonly CLProgramCache _cache;
    private nint _context;

    /// <summary>Creates a context and default queue on <paramref name="device"/>.</summary>
    /// <exception cref="CLException">The driver refused to create the context or queue.</exception>
    public unsafe CLAccelerator(Context context, CLDevice device)
        : base(context, device)
    {
        ArgumentNullException.ThrowIfNull(device);
        CLDevice = device;
        nint* properties = stackalloc nint[] { CLApi.ContextPlatform, device.PlatformHandle, 0 };
        nint deviceHandle = device.DeviceHandle;
        int status;
        _context = CLApi.clCreateContext(properties, 1, &deviceHandle, 0, 0, &status);
        CLException.Check(status, "clCreateContext");
        try
        {
            _defaultStream = new CLStream(this, CreateQueue(), isDefault: true);
        }
        catch
        {
            CLApi.clReleaseContext(_context);
            throw;
        }
        _buildOptions = ChooseBuildOptions(device);
        _cache = new CLProgramCache(device, _buildOptions);
    }

    public CLDevice CLDevice { get; }

    public override AcceleratorStream DefaultStream => _defaultStream;

    /// <summary>The options passed to <c>clBuildProgram</c> (never fast-math).</summary>
    public string BuildOptions => _buildOptions;

    internal nint ContextHandle => _context;

    // ---- queues and streams ----

    internal unsafe nint CreateQueue()
    {
        int status;
        nint queue;
        // clCreateCommandQueue is deprecated from 2.0 on; the ICD exports the new entry only for 2.0+ platforms.
        if (CLDevice.PlatformApiVersion.Major >= 2)
        {
            try
            {
                ulong* properties = stackalloc ulong[] { CLApi.QueueProperties, CLApi.QueueProfilingEnable, 0 };
                queue = CLApi.clCreateCommandQueueWithProperties(_context, CLDevice.DeviceHandle, properties, &status);
                CLException.Check(status, "clCreateCommandQueueWithProperties");
                return queue;
            }
            catch (EntryPointNotFoundException)
            {
                // An ICD loader older than the platform lacks the 2.0 entry; the 1.2 one still works.
            }
        }
        queue = CLApi.clCreateCommandQueue(_context, CLDevice.DeviceHandle, CLApi.QueueProfilingEnable, &status);
        CLException.Check(status, "clCreateCommandQueue");
        return queue;
    }

    protected override AcceleratorStream CreateStreamCore()
    {
        var stream = new CLStream(this, CreateQueue(), isDefault: false);
        lock (_lock) _streams.Add(stream);
        return stream;
    }

    internal void Forget(CLStream stream)
    {
        lock (_lock) _streams.Remove(stream);
    }

    protected override void SynchronizeCore()
    {
        CLStream[] streams;
        lock (_lock) streams = [.. _streams];
        _defaultStream.Synchronize();
        foreach (var stream in streams)
        {
            if (!stream.IsDisposed) stream.Synchronize();
        }
    }

    // ---- memory ----

    protected internal override unsafe DeviceMemory AllocateMemory(long lengthInBytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(lengthInBytes);
        if (lengthInBytes > CLDevice.MaxMemoryAllocation)
            throw new ArgumentOutOfRangeException(nameof(lengthInBytes),
                $"Allocating {lengthInBytes} bytes exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE ({CLDevice.MaxMemoryAllocation} bytes) of OpenCL device '{Name}'.");
        // OpenCL rejects zero-sized buffers; an empty allocation still gets a valid 1-byte cl_mem so views on it can be passed.
        nuint size = (nuint)Math.Max(1L, lengthInBytes);
        int status;
        nint handle = CLApi.clCreateBuffer(_context, CLApi.MemReadWrite, size, null, &status);
        if (status != 0) throw new CLException($"clCreateBuffer({lengthInBytes} bytes)", status);
        return new CLMemory(this, handle, lengthInBytes);
    }

    /// <summary>Free global memory where the driver reports it (AMD's cl_amd_device_attribute_query); else -1.</summary>
    public override unsafe long FreeMemory
    {
        get
        {
            if (IsDisposed || !CLDevice.HasExtension("cl_amd_device_attribute_query")) return -1;
            // CL_DEVICE_GLOBAL_FREE_MEMORY_AMD: size_t[2] in KiB, the first being the total free memory.
            nuint* kib = stackalloc nuint[2];
            return CLApi.clGetDeviceInfo(CLDevice.DeviceHandle, CLApi.DeviceGlobalFreeMemoryAmd, (nuint)(2 * sizeof(nuint)), kib, null) == 0
                ? (long)kib[0] * 1024
                : -1;
        }
    }

    // ---- kernels ----

    protected override object? CompileKernel(KernelDefinition definition)
    {
        ThrowIfDisposed();
        if (PoclCacheProblem(CLDevice.PlatformName, CLDevice.PlatformVersion) is { } problem)
            throw new InvalidOperationException($"Cannot build kernel {definition.Name} on '{Name}': {problem}.");
        var watch = Stopwatch.StartNew();
        string source = definition.OpenCLSource;
        nint program = _cache.TryLoad(_context, source, out string key);
        bool fromCache = program != 0;
        if (!fromCache) program = BuildFromSource(definition, source, key);
        try
        {
            var kernel = CLKernel.Create(program, definition.EntryPoint, CLDevice);
            lock (_lock) _kernels.Add(kernel);
            if (Environment.GetEnvironmentVariable("GPUDECONV_DEBUG") == "1")
                Console.Error.WriteLine($"[gpudeconv] OpenCL {definition.Name}: {(fromCache ? "loaded from cache" : "built")} in {watch.Elapsed.TotalMilliseconds:F1} ms, group limit {kernel.MaxGroupSize}");
            return kernel;
        }
        catch
        {
            CLApi.clReleaseProgram(program);
            throw;
        }
    }

    private unsafe nint BuildFromSource(KernelDefinition definition, string source, string key)
    {
        byte[] text = CLApi.Utf8Z(source);
        byte[] options = CLApi.Utf8Z(_buildOptions);
        int status;
        nint program;
        fixed (byte* s = text)
        {
            byte* strings = s;
            nuint length = (nuint)(text.Length - 1);
            program = CLApi.clCreateProgramWithSource(_context, 1, &strings, &length, &status);
        }
        CLException.Check(status, "clCreateProgramWithSource");
        nint device = CLDevice.DeviceHandle;
        status = CLApi.BuildProgram(program, device, options);
        if (status != 0)
        {
            string log = CLApi.BuildLog(program, device);
            CLApi.clReleaseProgram(program);
            throw new KernelCompilationException(definition.Name, definition.Location,
                $"OpenCL device '{Name}' ({CLDevice.PlatformVersion}, options \"{_buildOptions}\")", log, source,
                new CLException("clBuildProgram", status));
        }
        _cache.Store(program, key);
        return program;
    }

    private static string ChooseBuildOptions(CLDevice device)
    {
        var options = new List<string>();
        // The generated code is OpenCL C 1.2; asking for it keeps 3.0 compilers from enabling optional-feature semantics.
        if (device.CVersion >= new Version(1, 2)) options.Add("-cl-std=CL1.2");
        // .NET's float division and sqrt are correctly rounded; match them where the device can.
        if (device.SupportsCorrectlyRoundedDivideSqrt) options.Add("-cl-fp32-correctly-rounded-divide-sqrt");
        return string.Join(' ', options);
    }

    /// <summary>pocl needs a writable cache directory even with its cache off (pocl #861); says why it has none, or null.</summary>
    internal static string? PoclCacheProblem(string platformName, string platformVersion)
    {
        if (!platformName.Contains("Portable Computing Language", StringComparison.Ordinal)
            && !platformVersion.Contains("PoCL", StringComparison.OrdinalIgnoreCase)) return null;
        return PoclCacheCheck.Value;
    }

    private static readonly Lazy<string?> PoclCacheCheck = new(() =>
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CACHE_DIR"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("XDG_CACHE_HOME"))) return null;
        // Without HOME pocl falls back to /tmp/pocl/kcache; with an unwritable one it reports CL_DEVICE_NOT_FOUND.
        string? home = Environment.GetEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home)) return null;
        string cache = Path.Combine(home, ".cache");
        return CLProgramCache.IsWritable(Directory.Exists(cache) ? cache : home)
            ? null
            : $"pocl needs a writable cache directory, but POCL_CACHE_DIR and XDG_CACHE_HOME are unset and {cache} is not writable; set POCL_CACHE_DIR";
    });

    // ---- lifetime ----

    protected override void DisposeCore()
    {
        CLStream[] streams;
        CLKernel[] kernels;
        lock (_lock)
        {
            streams = [.. _streams];
            kernels = [.. _kernels];
            _streams.Clear();
            _kernels.Clear();
        }
        // Let queued work finish before its kernels and queues go; errors here can't be acted on.
        foreach (var stream in streams) stream.ReleaseQueue(finish: true);
        _defaultStream.ReleaseQueue(finish: true);
        foreach (var kernel in kernels) kernel.Release();
        if (_context != 0)
        {
            CLApi.clReleaseContext(_context);
            _context = 0;
        }
    }
}

/// <summary>A built program and its kernel object; the unit that <see cref="Accelerator"/> caches per definition.</summary>
internal sealed class CLKernel
{
    private CLKernel(nint program, nint kernel, int maxGroupSize, int preferredMultiple)
    {
        Program = program;
        Kernel = kernel;
        MaxGroupSize = maxGroupSize;
        PreferredMultiple = preferredMultiple;
    }

    public nint Program { get; private set; }

    public nint Kernel { get; private set; }

    /// <summary>CL_KERNEL_WORK_GROUP_SIZE: the largest group this kernel can run with on the device.</summary>
    public int MaxGroupSize { get; }

    public int PreferredMultiple { get; }

    /// <summary>clSetKernelArg mutates the kernel object: arguments and enqueue happen under this lock.</summary>
    public Lock LaunchLock { get; } = new();

    public static unsafe CLKernel Create(nint program, string entryPoint, CLDevice device)
    {
        byte[] name = CLApi.Utf8Z(entryPoint);
        int status;
        nint kernel;
        fixed (byte* n = name) kernel = CLApi.clCreateKernel(program, n, &status);
        if (status != 0) throw new CLException($"clCreateKernel(\"{entryPoint}\")", status);
        try
        {
            int maxGroup = (int)Math.Min(int.MaxValue, CLApi.KernelGroupValue<nuint>(kernel, device.DeviceHandle, CLApi.KernelWorkGroupSize));
            int multiple = (int)Math.Min(int.MaxValue, CLApi.KernelGroupValue<nuint>(kernel, device.DeviceHandle, CLApi.KernelPreferredWorkGroupSizeMultiple));
            return new CLKernel(program, kernel, Math.Max(1, maxGroup), Math.Max(1, multiple));
        }
        catch
        {
            CLApi.clReleaseKernel(kernel);
            throw;
        }
    }

    public void Release()
    {
        lock (LaunchLock)
        {
            if (Kernel != 0) CLApi.clReleaseKernel(Kernel);
            if (Program != 0) CLApi.clReleaseProgram(Program);
            Kernel = 0;
            Program = 0;
        }
    }
}

/// <summary>A <c>cl_mem</c> buffer.</summary>
internal sealed class CLMemory(CLAccelerator accelerator, nint handle, long lengthInBytes) : DeviceMemory(accelerator, lengthInBytes)
{
    public nint Handle { get; } = handle;

    // A cl_mem keeps its context alive, so releasing after the accelerator is gone is still valid.
    protected override void Free() => CLApi.clReleaseMemObject(Handle);
}
