using GpuDeconv.Compute.Ilgpu;
using GpuDeconv.Layers;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Shape = GpuDeconv.Layers.Shape;
using Size2d = GpuDeconv.Layers.Size2d;

// Research code that already works in ILGPU keeps its context, accelerator, buffers and kernels, and runs GpuDeconv's
// layers on the same memory: an ILGPU kernel draws an image into an ILGPU buffer, the library convolves, rectifies and
// pools it (and takes gradients) without copying it in, and a second ILGPU kernel rescales the library's output in place.
// The result is checked against GpuDeconv's own CPU accelerator. Exit code 0 when they agree.
// `--cpu` keeps ILGPU on its CPU accelerator even where a CUDA device exists.

const int Height = 12, Width = 12, Channels = 2, Filters = 4;

// 1. The user's ILGPU context. IlgpuBackend.Configure adds what the library's kernels need (ILGPU.Algorithms, inlined
//    static tables); KernelCpuDevice is ILGPU's CPU device with groups of up to 256 threads.
using var context = Context.Create(builder =>
{
    if (!args.Contains("--cpu")) builder.Cuda();
    IlgpuBackend.Configure(builder.CPU(IlgpuBackend.KernelCpuDevice()));
});
using var ilgpu = context.GetPreferredDevice(preferCPU: false).CreateAccelerator(context);
Console.WriteLine($"ILGPU accelerator: {ilgpu.Name} ({ilgpu.AcceleratorType})");

// 2. The user's buffer and kernel.
using var image = ilgpu.Allocate1D<float>(Height * Width * Channels);
var draw = ilgpu.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int>(UserKernels.Draw);
draw((int)image.Length, image.View, Width, Channels);

// 3. GpuDeconv on the same ILGPU accelerator and memory. Wrap borrows: the user keeps owning context, accelerator
//    and buffer, and disposes them after the GpuDeconv objects (the `using` order below does that).
using var backend = IlgpuBackend.Wrap(context);
using var accelerator = backend.Wrap(ilgpu);
using var borrowed = accelerator.Borrow(image);
using var x = Tensor.FromBuffer(borrowed, new Shape(1, Height, Width, Channels));
using var filter = Tensor.FromArray(accelerator, FilterValues(), new Shape(3, 3, Channels, Filters), requiresGrad: true);

using var conv = Functional.Conv2d(x, filter);
using var relu = Functional.Relu(conv);
using var pooled = Functional.MaxPool(relu, new Size2d(2, 2), new Size2d(2, 2));
using var loss = Functional.L2Loss(pooled);
loss.Backward();

// 4. The library's output back in an ILGPU kernel, in place: no copy either way.
var scale = ilgpu.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(UserKernels.Scale);
var pooledView = pooled.View.Data.AsIlgpuView();
scale((int)pooledView.Length, pooledView, 0.5f);
ilgpu.Synchronize();

// 5. The same computation on GpuDeconv's own CPU accelerator, from the pixels the ILGPU kernel drew.
using var cpuContext = GpuDeconv.Compute.Context.Create(b => b.CPU());
using var cpu = cpuContext.GetPreferredDevice(preferCPU: true).CreateAccelerator(cpuContext);
using var cx = Tensor.FromArray(cpu, x.ToArray(), x.Shape);
using var cw = Tensor.FromArray(cpu, FilterValues(), filter.Shape, requiresGrad: true);
using var cpooled = Functional.MaxPool(Functional.Relu(Functional.Conv2d(cx, cw)), new Size2d(2, 2), new Size2d(2, 2));
using var closs = Functional.L2Loss(cpooled);
closs.Backward();

float[] expected = [.. cpooled.ToArray().Select(v => v * 0.5f)];
double outputError = MaxDifference(expected, pooled.ToArray());
double gradientError = MaxDifference(cw.Grad!.ToArray(), filter.Grad!.ToArray());
Console.WriteLine($"pooled output {pooled.Shape}: max |ILGPU - CPU| = {outputError:G3} (after the ILGPU kernel halved it in place)");
Console.WriteLine($"filter gradient {filter.Shape}: max |ILGPU - CPU| = {gradientError:G3}");
bool ok = outputError <= 1e-4 && gradientError <= 1e-3 * Math.Max(1, cw.Grad!.ToArray().Max(Math.Abs));
Console.WriteLine(ok ? "OK: ILGPU kernels and GpuDeconv layers shared one buffer" : "MISMATCH");
return ok ? 0 : 1;

static float[] FilterValues() => [.. Enumerable.Range(0, 3 * 3 * Channels * Filters).Select(i => MathF.Sin(i * 0.7f) * 0.5f)];

static double MaxDifference(float[] a, float[] b) =>
    a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (p, q) => (double)Math.Abs(p - q)).DefaultIfEmpty(0).Max();

/// <summary>The user's own ILGPU kernels.</summary>
internal static class UserKernels
{
    /// <summary>A smooth two-channel pattern, NHWC.</summary>
    public static void Draw(Index1D index, ArrayView<float> image, int width, int channels)
    {
        int c = index % channels;
        int pixel = index / channels;
        int column = pixel % width, row = pixel / width;
        image[index] = c == 0 ? XMath.Sin(row * 0.6f) * XMath.Cos(column * 0.4f) : (row - column) / (float)width;
    }

    public static void Scale(Index1D index, ArrayView<float> data, float factor) => data[index] *= factor;
}
