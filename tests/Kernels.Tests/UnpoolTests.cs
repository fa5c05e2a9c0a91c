using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Unpool (scatter_nd of pooled values to their switches) against docs/reference/op-semantics.md 7(b) literally and a plain-loop
// scatter. The op's contract is that duplicates sum in increasing element order in float, so the reference does
// exactly that and results must match bit for bit (and be bit-identical across runs and accelerators).
public sealed class UnpoolTests
{
    /// <summary>Unpools on the device; <paramref name="hostShaped"/> forces the host-CPU or the GPU-shaped kernels (null: the device's choice).</summary>
    internal static float[] Forward(Accelerator accelerator, float[] values, long[] argmax, Shape valuesShape, Shape outputShape,
                                    bool includeBatch, UnpoolIndices indices = UnpoolIndices.Validate, bool? hostShaped = null)
    {
        var v = Host.Upload(accelerator, values, valuesShape);
        using var vBuffer = v.Buffer;
        var m = Host.Upload(accelerator, argmax, valuesShape);
        using var mBuffer = m.Buffer;
        var output = Host.Allocate<float>(accelerator, outputShape);
        using var outputBuffer = output.Buffer;
        Unpool.ForwardWith(accelerator.DefaultStream, v.View, m.View, output.View, includeBatch, indices, hostShaped);
        return Host.Download(output.View);
    }

    private static float[] Backward(Accelerator accelerator, float[] outputGrad, long[] argmax, Shape valuesShape, Shape outputShape, bool includeBatch)
    {
        var dy = Host.Upload(accelerator, outputGrad, outputShape);
        using var dyBuffer = dy.Buffer;
        var m = Host.Upload(accelerator, argmax, valuesShape);
        using var mBuffer = m.Buffer;
        var dv = Host.Allocate<float>(accelerator, valuesShape);
        using var dvBuffer = dv.Buffer;
        Unpool.Backward(accelerator.DefaultStream, dy.View, m.View, dv.View, includeBatch);
        return Host.Download(dv.View);
    }

    /// <summary>The flat output index of element e, or -1 when out of range (the op's documented rule).</summary>
    private static long Target(long e, long m, Shape valuesShape, Shape outputShape, bool includeBatch)
    {
        long perImage = (long)outputShape[1] * outputShape[2] * outputShape[3];
        long valuesPerImage = (long)valuesShape[1] * valuesShape[2] * valuesShape[3];
        if (includeBatch) return m >= 0 && m < outputShape.Size ? m : -1;
        return m >= 0 && m < perImage ? e / valuesPerImage * perImage + m : -1;
    }

    /// <summary>Zeros plus every value added at its target, in increasing element order, in float.</summary>
    private static float[] Reference(float[] values, long[] argmax, Shape valuesShape, Shape outputShape, bool includeBatch)
    {
        var output = new float[outputShape.Size];
        for (long e = 0; e < values.Length; e++)
            output[Target(e, argmax[e], valuesShape, outputShape, includeBatch)] += values[e];
        return output;
    }

    /// <summary>The scatter in double, for finite differences.</summary>
    private static double[] ReferenceDouble(double[] values, long[] argmax, Shape valuesShape, Shape outputShape, bool includeBatch)
    {
        var output = new double[outputShape.Size];
        for (long e = 0; e < values.Length; e++)
            output[Target(e, argmax[e], valuesShape, outputShape, includeBatch)] += values[e];
        return output;
    }

    /// <summary>Indices drawn at random from a small range, so that many elements share a target.</summary>
    private static long[] RandomIndices(int seed, long count, long range)
    {
        var random = new Random(seed);
        var indices = new long[count];
        for (long i = 0; i < count; i++) indices[i] = random.NextInt64(range);
        return indices;
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExample7bUnpooled(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var options = new PoolOptions(2, 2, Padding.Same);
        var shape = new Shape(2, 4, 4, 2);
        foreach (bool includeBatch in new[] { false, true })
        {
            var (values, argmax) = MaxPoolWithArgmaxTests.Forward(acc, MaxPoolWithArgmaxTests.RowsInput(2), shape, options, includeBatch);
            var expected = new float[shape.Size];
            for (int b = 0; b < 2; b++)
            {
                foreach (int row in new[] { 1, 3 })
                {
                    foreach (int col in new[] { 0, 2 })
                    {
                        expected[((b * 4 + row) * 4 + col) * 2] = row;
                        expected[((b * 4 + row) * 4 + col) * 2 + 1] = row + 4;
                    }
                }
            }
            foreach (var indices in new[] { UnpoolIndices.Validate, UnpoolIndices.TrustedUnique })
            {
                var actual = Forward(acc, values, argmax, new Shape(2, 2, 2, 2), shape, includeBatch, indices);
                Check.Equal<float>(expected, actual, $"7(b) unpooled, includeBatch {includeBatch}, {indices}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OddPrePoolSizesRoundTrip(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        PoolReference.Geometry[] cases =
        [
            new(3, 5, 5, 2, 2, 2, 2, 2, Padding.Same),   // 5x5 -> 3x3 -> 5x5, the tutorial's Wout = 2*Wpool gets this wrong
            new(2, 7, 3, 3, 2, 2, 2, 2, Padding.Same),
            new(1, 7, 7, 1, 2, 2, 3, 3, Padding.Valid),  // stride > size
        ];
        foreach (var g in cases)
        {
            var x = Host.Random(5, g.InputSize);
            foreach (bool includeBatch in new[] { false, true })
            {
                var (values, argmax) = MaxPoolWithArgmaxTests.Forward(acc, x, g.InputShape, g.Options, includeBatch);
                // Every switch gets its maximum back, every other cell 0.
                var expected = new float[g.InputSize];
                var reference = PoolReference.MaxWithArgmax(x, g, includeBatch: true);
                for (long o = 0; o < g.OutputSize; o++) expected[reference.Argmax[o]] = x[reference.Argmax[o]];
                foreach (var indices in new[] { UnpoolIndices.Validate, UnpoolIndices.TrustedUnique })
                {
                    var actual = Forward(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch, indices);
                    Check.Equal<float>(expected, actual, $"unpool round trip, {g}, includeBatch {includeBatch}, {indices}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void DuplicatesSumInElementOrderAndRepeatBitForBit(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var valuesShape = new Shape(2, 3, 4, 3);
        var outputShape = new Shape(2, 2, 2, 3);   // 12 cells per image for 36 elements: about 3 per target
        var values = Host.Random(11, valuesShape.Size, -10, 10);
        foreach (bool includeBatch in new[] { false, true })
        {
            var argmax = RandomIndices(12, valuesShape.Size, includeBatch ? outputShape.Size : 12);
            var expected = Reference(values, argmax, valuesShape, outputShape, includeBatch);
            var first = Forward(acc, values, argmax, valuesShape, outputShape, includeBatch);
            Check.Equal<float>(expected, first, $"duplicates, includeBatch {includeBatch}");
            Check.Equal<float>(first, Forward(acc, values, argmax, valuesShape, outputShape, includeBatch), "second run");
        }

        // Overlapping 3x3 stride-1 windows: one cell is often the switch of several windows.
        var g = new PoolReference.Geometry(2, 6, 5, 3, 3, 3, 1, 1, Padding.Same);
        var x = Host.Random(13, g.InputSize);
        var pooled = MaxPoolWithArgmaxTests.Forward(acc, x, g.InputShape, g.Options);
        Assert.True(pooled.Argmax.Distinct().Count() < pooled.Argmax.Length, "the case must contain duplicate switches");
        Check.Equal<float>(Reference(pooled.Values, pooled.Argmax, g.OutputShape, g.InputShape, false),
                           Forward(acc, pooled.Values, pooled.Argmax, g.OutputShape, g.InputShape, false), "overlapping switches");
    }

    [Fact]
    public void DuplicatesAreBitIdenticalOnCpuAndOpenCl()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        var valuesShape = new Shape(4, 9, 7, 5);
        var outputShape = new Shape(4, 5, 5, 5);
        var values = Host.Random(21, valuesShape.Size);
        var argmax = RandomIndices(22, valuesShape.Size, 5 * 5 * 5);
        Check.Equal<float>(Forward(cpu, values, argmax, valuesShape, outputShape, false),
                           Forward(opencl, values, argmax, valuesShape, outputShape, false), "unpool CPU vs OpenCL");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OutOfRangeIndexIsAnErrorNamingTheElement(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var valuesShape = new Shape(2, 2, 2, 3);
        var outputShape = new Shape(2, 2, 2, 3);
        var values = Host.Random(31, valuesShape.Size);
        var argmax = new long[valuesShape.Size];
        for (int e = 0; e < argmax.Length; e++) argmax[e] = e % 12;
        // Element 4 is argmax[0, 0, 1, 1]; element 20, a later bad one, must not be the one reported.
        argmax[4] = 12;
        argmax[20] = -1;
        var error = Assert.Throws<ArgumentException>(() => Forward(acc, values, argmax, valuesShape, outputShape, includeBatch: false));
        Assert.Contains("Unpool: argmax[0, 0, 1, 1] (element 4", error.Message);
        Assert.Contains("is 12", error.Message);
        Assert.Contains("[0, 12)", error.Message);
        Assert.Contains("[2, 2, 2, 3]", error.Message);

        argmax[4] = 4;
        error = Assert.Throws<ArgumentException>(() => Forward(acc, values, argmax, valuesShape, outputShape, includeBatch: false));
        Assert.Contains("argmax[1, 1, 0, 2] (element 20", error.Message);
        Assert.Contains("is -1", error.Message);

        // With the batch in the index the range is the whole output.
        argmax[20] = 24;
        error = Assert.Throws<ArgumentException>(() => Forward(acc, values, argmax, valuesShape, outputShape, includeBatch: true));
        Assert.Contains("is 24", error.Message);
        Assert.Contains("[0, 24)", error.Message);
        argmax[20] = 23;
        var expected = Reference(values, argmax, valuesShape, outputShape, includeBatch: true);
        Check.Equal<float>(expected, Forward(acc, values, argmax, valuesShape, outputShape, includeBatch: true), "in range after the fix");

        var empty = Assert.Throws<ArgumentException>(() => Forward(acc, values, argmax, valuesShape, new Shape(2, 0, 2, 3), includeBatch: false));
        Assert.Contains("Unpool: output [2, 0, 2, 3] has no cells", empty.Message);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TrustedUniqueStoresAndSkipsOutOfRange(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var valuesShape = new Shape(2, 2, 3, 2);
        var outputShape = new Shape(2, 4, 5, 2);
        var values = Host.Random(41, valuesShape.Size);
        foreach (bool includeBatch in new[] { false, true })
        {
            long range = includeBatch ? outputShape.Size : 40;
            var permutation = new long[range];
            for (long i = 0; i < range; i++) permutation[i] = i;
            new Random(42).Shuffle(permutation);
            var argmax = permutation[..(int)valuesShape.Size];
            if (!includeBatch)
            {
                // Each image needs its own unique in-image indices: the second image takes another slice.
                for (int e = 12; e < 24; e++) argmax[e] = permutation[e + 4];
            }
            var expected = Reference(values, argmax, valuesShape, outputShape, includeBatch);
            Check.Equal<float>(expected, Forward(acc, values, argmax, valuesShape, outputShape, includeBatch, UnpoolIndices.TrustedUnique),
                $"trusted unique, includeBatch {includeBatch}");

            var bad = (long[])argmax.Clone();
            bad[3] = -5;
            bad[7] = range;
            var skipped = (float[])expected.Clone();
            skipped[Target(3, argmax[3], valuesShape, outputShape, includeBatch)] = 0;
            skipped[Target(7, argmax[7], valuesShape, outputShape, includeBatch)] = 0;
            Check.Equal<float>(skipped, Forward(acc, values, bad, valuesShape, outputShape, includeBatch, UnpoolIndices.TrustedUnique),
                $"trusted unique skips out-of-range, includeBatch {includeBatch}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardGathersAtTheTargets(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var valuesShape = new Shape(3, 3, 2, 4);
        var outputShape = new Shape(3, 5, 3, 4);
        var dy = Host.Random(51, outputShape.Size);
        foreach (bool includeBatch in new[] { false, true })
        {
            var argmax = RandomIndices(52, valuesShape.Size, includeBatch ? outputShape.Size : 60);
            argmax[5] = -1;                                  // out of range: gradient 0
            argmax[9] = includeBatch ? outputShape.Size : 60;
            var expected = new float[valuesShape.Size];
            for (long e = 0; e < expected.Length; e++)
            {
                long t = Target(e, argmax[e], valuesShape, outputShape, includeBatch);
                expected[e] = t >= 0 ? dy[t] : 0f;
            }
            Check.Equal<float>(expected, Backward(acc, dy, argmax, valuesShape, outputShape, includeBatch), $"valuesGrad, includeBatch {includeBatch}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var valuesShape = new Shape(2, 2, 3, 2);
        var outputShape = new Shape(2, 3, 3, 2);
        var values = FiniteDifference.ToDouble(Host.Random(61, valuesShape.Size));
        var dy = Host.Random(62, outputShape.Size);
        foreach (bool includeBatch in new[] { false, true })
        {
            var argmax = RandomIndices(63, valuesShape.Size, includeBatch ? outputShape.Size : 18);   // with duplicates
            var expected = FiniteDifference.Gradient(v => ReferenceDouble(v, argmax, valuesShape, outputShape, includeBatch),
                values, FiniteDifference.ToDouble(dy));
            var actual = Backward(acc, dy, argmax, valuesShape, outputShape, includeBatch);
            Check.Close(expected, FiniteDifference.ToDouble(actual), 1e-6, 1e-6, $"valuesGrad vs finite differences, includeBatch {includeBatch}");
        }
    }

    [Fact]
    public void ShapeErrorsNameTheOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var values = Host.Upload(acc, Host.Random(1, 24), new Shape(2, 2, 2, 3));
        using var valuesBuffer = values.Buffer;
        var argmax = Host.Allocate<long>(acc, new Shape(2, 2, 2, 3), 0);
        using var argmaxBuffer = argmax.Buffer;
        var output = Host.Allocate<float>(acc, new Shape(2, 4, 4, 3));
        using var outputBuffer = output.Buffer;

        var error = Assert.Throws<ArgumentException>(() => Unpool.Forward(stream, values.View with { Shape = new Shape(8, 3) }, argmax.View, output.View));
        Assert.Contains("Unpool: values must be rank 4", error.Message);
        Assert.Contains("[8, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Forward(stream, values.View, argmax.View with { Shape = new Shape(2, 2, 3, 2) }, output.View));
        Assert.Contains("Unpool: argmax must have shape [2, 2, 2, 3] (one index per element of values), but it is [2, 2, 3, 2]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Forward(stream, values.View, argmax.View, output.View with { Shape = new Shape(1, 4, 8, 3) }));
        Assert.Contains("Unpool: output [1, 4, 8, 3] must have the batch size and channel count of values [2, 2, 2, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Forward(stream, values.View, argmax.View, output.View with { Shape = new Shape(2, 4, 6, 2) }));
        Assert.Contains("output [2, 4, 6, 2]", error.Message);
        Assert.Contains("values [2, 2, 2, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Forward(stream, values.View, argmax.View, output.View with { Shape = new Shape(2, 16, 3) }));
        Assert.Contains("Unpool: output must be rank 4", error.Message);
        Assert.Contains("[2, 16, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Backward(stream, output.View, argmax.View, values.View with { Shape = new Shape(2, 3, 1, 4) }));
        Assert.Contains("Unpool.Backward: argmax must have shape [2, 3, 1, 4] (one index per element of valuesGrad), but it is [2, 2, 2, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Unpool.Backward(stream, output.View with { Shape = new Shape(2, 4, 2, 6) }, argmax.View, values.View));
        Assert.Contains("Unpool.Backward: outputGrad [2, 4, 2, 6] must have the batch size and channel count of valuesGrad [2, 2, 2, 3]", error.Message);
    }
}
