using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace GpuDeconv.Compute;

/// <summary>Compiles a kernel's CUDA C with NVRTC (CUBIN first, PTX as fallback), caches the image on disk and loads it.</summary>
internal static unsafe class NvrtcCompiler
{
    private const int NVRTC_ERROR_COMPILATION = 6;

    private static readonly object ArchGate = new();
    private static int[]? _supportedArchs;

    public static CudaKernel Compile(CudaAccelerator accelerator, KernelDefinition definition)
    {
        var device = accelerator.CudaDevice;
        var (nvrtcMajor, nvrtcMinor) = CudaLibraries.NvrtcVersion;
        string backend = $"CUDA (NVRTC {nvrtcMajor}.{nvrtcMinor}, {device.Name})";
        int deviceArch = device.ComputeCapabilityMajor * 10 + device.ComputeCapabilityMinor;
        int[] archs;
        try
        {
            archs = SupportedArchs();
        }
        catch (NvrtcException e)
        {
            throw new KernelCompilationException(definition.Name, definition.Location, backend, e.Message, definition.CudaSource, e);
        }
        catch (EntryPointNotFoundException e)
        {
            // nvrtcGetSupportedArchs arrived in NVRTC 11.2; an older generic libnvrtc.so lacks it.
            throw new KernelCompilationException(definition.Name, definition.Location, backend,
                $"NVRTC at {CudaLibraries.NvrtcLocation} is too old (11.2 or newer needed): {e.Message}; set GPUDECONV_NVRTC_PATH to a newer libnvrtc.so.", definition.CudaSource, e);
        }
        // The newest architecture NVRTC knows that the device can run (SASS runs on equal or newer minors).
        int arch = archs.Where(a => a <= deviceArch).DefaultIfEmpty(-1).Max();
        if (arch < 0)
        {
            string known = string.Join(", ", archs.Select(a => "sm_" + a.ToString(CultureInfo.InvariantCulture)));
            throw new KernelCompilationException(definition.Name, definition.Location, backend,
                $"NVRTC {nvrtcMajor}.{nvrtcMinor} supports {known}, none at or below the device's sm_{deviceArch}; use an older NVRTC (GPUDECONV_NVRTC_PATH).",
                definition.CudaSource);
        }

        CudaException? cubinFailure = null;
        // CUBIN only runs on the same major architecture; otherwise go straight to PTX for the driver to JIT.
        if (arch / 10 == device.ComputeCapabilityMajor)
        {
            string target = $"sm_{arch}";
            byte[] cubin = Build(definition, target, cubin: true, backend, out string? cachePath, out bool fromCache);
            if (TryLoad(accelerator, definition, cubin, target + " CUBIN", out var kernel, out cubinFailure)) return kernel!;
            if (fromCache)
            {
                // A corrupt or foreign cache entry: drop it and compile afresh once.
                TryDelete(cachePath);
                cubin = Build(definition, target, cubin: true, backend, out _, out _);
                if (TryLoad(accelerator, definition, cubin, target + " CUBIN", out kernel, out cubinFailure)) return kernel!;
            }
        }
        string virtualTarget = $"compute_{arch}";
        byte[] ptx = Build(definition, virtualTarget, cubin: false, backend, out string? ptxPath, out bool ptxFromCache);
        if (TryLoad(accelerator, definition, ptx, virtualTarget + " PTX", out var jitted, out var ptxFailure)) return jitted!;
        if (ptxFromCache) TryDelete(ptxPath);
        if (cubinFailure is not null)
            throw CudaException.Create(ptxFailure!.ErrorCode, "cuModuleLoadData",
                $"Kernel {definition.Name} ({definition.Location}): the sm_{arch} CUBIN failed first ({cubinFailure.ErrorName}), then the {virtualTarget} PTX fallback failed. NVRTC {nvrtcMajor}.{nvrtcMinor} ({CudaLibraries.NvrtcLocation}), driver CUDA {device.DriverVersion}.");
        throw ptxFailure!;
    }

    private static int[] SupportedArchs()
    {
        lock (ArchGate)
        {
            if (_supportedArchs is not null) return _supportedArchs;
            int count = 0;
            NvrtcException.Check(NvrtcApi.nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
            var archs = new int[count];
            fixed (int* pointer = archs)
            {
                NvrtcException.Check(NvrtcApi.nvrtcGetSupportedArchs(pointer), "nvrtcGetSupportedArchs");
            }
            return _supportedArchs = archs;
        }
    }

    private static string[] Options(string target) =>
        [$"--gpu-architecture={target}", "--fmad=false", "-default-device", "--std=c++17", "-lineinfo"];

    /// <summary>The CUBIN or PTX (NUL-terminated) for <paramref name="target"/>, from the disk cache when present.</summary>
    private static byte[] Build(KernelDefinition definition, string target, bool cubin, string backend, out string? cachePath, out bool fromCache)
    {
        string[] options = Options(target);
        cachePath = CachePath(definition.CudaSource, options, cubin);
        fromCache = false;
        if (cachePath is not null)
        {
            try
            {
                if (File.Exists(cachePath))
                {
                    byte[] cached = File.ReadAllBytes(cachePath);
                    if (cached.Length > 0)
                    {
                        fromCache = true;
                        return cached;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        byte[] image;
        try
        {
            image = RunNvrtc(definition, options, cubin, $"{backend}, {target}");
        }
        catch (NvrtcException e)
        {
            throw new KernelCompilationException(definition.Name, definition.Location, $"{backend}, {target}", e.Message, definition.CudaSource, e);
        }
        if (cachePath is not null) TryWrite(cachePath, image);
        return image;
    }

    private static byte[] RunNvrtc(KernelDefinition definition, string[] options, bool cubin, string backend)
    {
        byte[] source = Utf8(definition.CudaSource);
        // The program name appears in the log ("Saxpy.cu(12): error ..."), which the exception maps back to C#.
        byte[] name = Utf8(definition.EntryPoint + ".cu");
        nint program = 0;
        fixed (byte* sourcePointer = source)
        fixed (byte* namePointer = name)
        {
            NvrtcException.Check(NvrtcApi.nvrtcCreateProgram(&program, sourcePointer, namePointer, 0, null, null), "nvrtcCreateProgram");
        }
        var optionPointers = new nint[options.Length];
        try
        {
            for (int i = 0; i < options.Length; i++) optionPointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            int status;
            fixed (nint* pointers = optionPointers)
            {
                status = NvrtcApi.nvrtcCompileProgram(program, options.Length, (byte**)pointers);
            }
            if (status == NVRTC_ERROR_COMPILATION)
                throw new KernelCompilationException(definition.Name, definition.Location, backend, Log(program), definition.CudaSource);
            if (status != 0)
            {
                string log = Log(program);
                var error = NvrtcException.Create(status, "nvrtcCompileProgram");
                throw new KernelCompilationException(definition.Name, definition.Location, backend,
                    log.Length > 0 ? error.Message + Environment.NewLine + log : error.Message, definition.CudaSource, error);
            }
            nuint size = 0;
            if (cubin)
            {
                NvrtcException.Check(NvrtcApi.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
                var image = new byte[(int)size];
                fixed (byte* pointer = image) NvrtcException.Check(NvrtcApi.nvrtcGetCUBIN(program, pointer), "nvrtcGetCUBIN");
                return image;
            }
            else
            {
                // The PTX size includes the terminating NUL that cuModuleLoadData needs.
                NvrtcException.Check(NvrtcApi.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
                var image = new byte[(int)size + 1];
                fixed (byte* pointer = image) NvrtcException.Check(NvrtcApi.nvrtcGetPTX(program, pointer), "nvrtcGetPTX");
                return image;
            }
        }
        finally
        {
            foreach (nint pointer in optionPointers) Marshal.FreeCoTaskMem(pointer);
            _ = NvrtcApi.nvrtcDestroyProgram(&program);
        }
    }

    private static string Log(nint program)
    {
        nuint size = 0;
        if (NvrtcApi.nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1) return string.Empty;
        var log = new byte[(int)size];
        fixed (byte* pointer = log)
        {
            if (NvrtcApi.nvrtcGetProgramLog(program, pointer) != 0) return string.Empty;
        }
        return Encoding.UTF8.GetString(log, 0, (int)size - 1).TrimEnd();
    }

    private static bool TryLoad(CudaAccelerator accelerator, KernelDefinition definition, byte[] image, string target, out CudaKernel? kernel, out CudaException? failure)
    {
        kernel = null;
        failure = null;
        accelerator.MakeCurrent();
        nint module = 0;
        int status;
        fixed (byte* pointer = image) status = CudaApi.cuModuleLoadData(&module, pointer);
        if (status != 0)
        {
            var device = accelerator.CudaDevice;
            failure = CudaException.Create(status, "cuModuleLoadData",
                $"Kernel {definition.Name} ({definition.Location}): {target} from NVRTC {CudaLibraries.NvrtcVersion.Major}.{CudaLibraries.NvrtcVersion.Minor} on sm_{device.ComputeCapabilityMajor}{device.ComputeCapabilityMinor}, driver CUDA {device.DriverVersion}.");
            return false;
        }
        try
        {
            nint function = 0;
            byte[] entry = Utf8(definition.EntryPoint);
            fixed (byte* pointer = entry) status = CudaApi.cuModuleGetFunction(&function, module, pointer);
            if (status != 0)
                throw CudaException.Create(status, "cuModuleGetFunction",
                    $"Kernel {definition.Name} ({definition.Location}): entry point '{definition.EntryPoint}' is not in the compiled module (it must be extern \"C\" __global__).");
            int maxThreads = 0, staticShared = 0;
            CudaException.Check(CudaApi.cuFuncGetAttribute(&maxThreads, CudaApi.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, function), "cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)");
            CudaException.Check(CudaApi.cuFuncGetAttribute(&staticShared, CudaApi.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function), "cuFuncGetAttribute(SHARED_SIZE_BYTES)");
            kernel = new CudaKernel(module, function, maxThreads, staticShared, target);
            return true;
        }
        catch
        {
            _ = CudaApi.cuModuleUnload(module);
            throw;
        }
    }

    private static byte[] Utf8(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    // ---- disk cache: one file per (source, target, NVRTC version, options, image kind) ----

    private static string? CachePath(string source, string[] options, bool cubin)
    {
        string? directory = CacheDirectory();
        if (directory is null) return null;
        var (major, minor) = CudaLibraries.NvrtcVersion;
        string key = string.Join('\0', source, string.Join(' ', options), $"nvrtc {major}.{minor}", cubin ? "cubin" : "ptx");
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return Path.Combine(directory, hash + (cubin ? ".cubin" : ".ptx"));
    }

    private static string? CacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable("GPUDECONV_CACHE_DIR");
        if (string.IsNullOrWhiteSpace(root))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrWhiteSpace(xdg))
            {
                root = Path.Combine(xdg, "gpudeconv");
            }
            else
            {
                string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                if (string.IsNullOrEmpty(home)) return null;
                root = Path.Combine(home, ".cache", "gpudeconv");
            }
        }
        return Path.Combine(root, "cuda");
    }

    private static void TryWrite(string path, byte[] image)
    {
        // Write then rename, so a concurrent reader never sees half a file.
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, image);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
        }
    }

    private static void TryDelete(string? path)
    {
        if (path is null) return;
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
