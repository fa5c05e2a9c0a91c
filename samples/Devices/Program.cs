using System.Diagnostics;
using GpuDeconv.Compute;

// Lists every device (and why each missing backend is missing), then runs two demo kernels on
// every accelerator and checks them against the host: an implicitly grouped SAXPY and an
// explicitly grouped sum (shared memory, barriers, atomics); then the deconv tutorial's worked
// examples through the CNN kernels (argmax pooling, unpooling, conv2d and conv2d_transpose).
// Exit code 1 if any check fails.
using var context = Context.CreateDefault();
Console.WriteLine(context.Describe());
Console.WriteLine();

int failures = 0;
foreach (var device in context)
{
    try
    {
        using var accelerator = device.CreateAccelerator(context);
        failures += Demo.Run(accelerator) ? 0 : 1;
        failures += DeconvDemo.Run(accelerator) ? 0 : 1;
    }
    catch (Exception exception)
    {
        failures++;
        Console.WriteLine($"{device}: FAILED: {exception.GetType().Name}: {exception.Message}");
    }
}

Console.WriteLine(failures == 0 ? "All demo kernels passed." : $"{failures} demo(s) failed.");
return failures == 0 ? 0 : 1;

static class Demo
{
    private const int GroupSize = 128;

    /// <summary>y[i] = a * x[i] + y[i].</summary>
    private static void Saxpy(Index1D i, ArrayView<float> y, ArrayView<float> x, float a)
    {
        y[i] = a * x[i] + y[i];
    }

    /// <summary>Each group sums its slice of values in shared memory (tree reduction), then adds it to total[0].</summary>
    private static void GroupSum(ArrayView<int> values, ArrayView<int> total)
    {
        var partial = SharedMemory.Allocate<int>(GroupSize);
        int lane = Group.IdxX;
        int global = Grid.GlobalIndex.X;
        partial[lane] = global < values.Length ? values[global] : 0;
        Group.Barrier();
        for (int stride = GroupSize / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
                partial[lane] += partial[lane + stride];
            Group.Barrier();
        }
        if (lane == 0)
            Atomic.Add(ref total[0], partial[0]);
    }

    public static bool Run(Accelerator accelerator)
    {
        const int length = 1 << 20;
        var watch = Stopwatch.StartNew();

        var saxpy = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(Saxpy);
        var x = new float[length];
        var y = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = i % 1000;
            y[i] = 1;
        }
        using var xBuffer = accelerator.Allocate1D(x);
        using var yBuffer = accelerator.Allocate1D(y);
        saxpy(length, yBuffer.View, xBuffer.View, 2f);
        float[] saxpyResult = yBuffer.GetAsArray1D();
        int saxpyErrors = 0;
        for (int i = 0; i < length; i++)
        {
            if (saxpyResult[i] != 2f * x[i] + 1f) saxpyErrors++;
        }

        var groupSum = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>>(GroupSum);
        // Small on purpose: the CPU accelerator runs barrier kernels with one OS thread per lane.
        var values = new int[(1 << 14) - 3];  // not a multiple of the group size on purpose
        long expected = 0;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i % 7 - 3;
            expected += values[i];
        }
        using var valuesBuffer = accelerator.Allocate1D(values);
        using var totalBuffer = accelerator.Allocate1D<int>(1);
        totalBuffer.MemSetToZero();
        int groups = (values.Length + GroupSize - 1) / GroupSize;
        groupSum(new KernelConfig(groups, GroupSize), valuesBuffer.View, totalBuffer.View);
        int total = totalBuffer.GetAsArray1D()[0];

        bool ok = saxpyErrors == 0 && total == expected;
        Console.WriteLine(
            $"{accelerator}: saxpy({length}) {(saxpyErrors == 0 ? "ok" : $"{saxpyErrors} wrong")}, " +
            $"group sum {(total == expected ? "ok" : $"got {total}, expected {expected}")} " +
            $"({watch.Elapsed.TotalMilliseconds:F0} ms including kernel compilation)");
        return ok;
    }
}
