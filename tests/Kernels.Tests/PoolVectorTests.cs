using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// The host-shaped pooling kernels (PoolVector.cs) against the GPU-shaped ones on the same accelerator and against the
// plain-loop reference, element for element and bit for bit (NaN payloads aside): the op's results must not depend on
// which family ran. Inputs are quantized so that windows hold ties, and seeded with NaN, infinities and signed zeros.
public sealed class PoolVectorTests
{
    /// <summary>Shapes beyond PoolReference.Cases: channel counts around multiples of 8 (full blocks and tails), odd SAME sizes, the tutorial's pools.</summary>
    private static readonly PoolReference.Geometry[] Extra =
    [
        new(2, 5, 5, 8, 2, 2, 2, 2, Padding.Same),
        new(2, 5, 7, 9, 2, 2, 2, 2, Padding.Same),
        new(1, 7, 5, 15, 2, 2, 2, 2, Padding.Same),
        new(3, 6, 6, 16, 2, 2, 2, 2, Padding.Same),
        new(1, 9, 9, 17, 3, 3, 3, 3, Padding.Same),    // pad 0/0 with 3x3 s3, and 17 = two blocks and a 1-channel tail
        new(1, 8, 8, 7, 3, 3, 3, 3, Padding.Same),     // pad 1 before: windows start above the block boundaries
        new(2, 7, 9, 13, 3, 2, 3, 2, Padding.Valid),
        new(1, 5, 5, 12, 3, 3, 2, 2, Padding.Same),    // overlapping: host forward, lane gather backward
        new(2, 5, 7, 32, 2, 2, 2, 2, Padding.Same),    // whole vectors: unrolled 2x2 windows inside, clipped ones at the edges
        new(1, 6, 5, 16, 2, 2, 1, 1, Padding.Valid),   // overlapping 2x2 windows of whole vectors
        new(1, 6, 6, 16, 3, 3, 2, 2, Padding.Same),    // 3x3 windows clipped to 2x2 in the corner
        new(4, 24, 24, 64, 2, 2, 2, 2, Padding.Same),  // the tutorial's pool1 (batch 4)
        new(4, 12, 12, 64, 2, 2, 2, 2, Padding.Same),  // pool2
    ];

    public static IEnumerable<PoolReference.Geometry> All => PoolReference.Cases.Concat(Extra);

    /// <summary>Quarter steps in [-1, 1] (many ties), with NaN, +-inf and -0 sprinkled in by <paramref name="seed"/>.</summary>
    private static float[] Input(int seed, long count)
    {
        var x = Array.ConvertAll(Host.Random(seed, count), v => MathF.Round(v * 4) / 4);
        var random = new Random(seed + 1);
        float[] specials = [float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f];
        for (long i = 0; i < count / 7; i++) x[random.NextInt64(count)] = specials[random.Next(specials.Length)];
        return x;
    }

    private static (float[] Values, long[] Argmax) Forward(Accelerator accelerator, float[] x, PoolReference.Geometry g, bool includeBatch, bool hostShaped)
    {
        var input = Host.Upload(accelerator, x, g.InputShape);
        using var inputBuffer = input.Buffer;
        var output = Host.Allocate<float>(accelerator, g.OutputShape);
        using var outputBuffer = output.Buffer;
        var argmax = Host.Allocate<long>(accelerator, g.OutputShape);
        using var argmaxBuffer = argmax.Buffer;
        MaxPoolWithArgmax.ForwardWith(accelerator.DefaultStream, input.View, output.View, argmax.View, g.Options, includeBatch, hostShaped);
        return (Host.Download(output.View), Host.Download(argmax.View));
    }

    private static float[] Backward(Accelerator accelerator, float[] dy, long[] argmax, PoolReference.Geometry g, bool includeBatch, bool hostShaped)
    {
        var outputGrad = Host.Upload(accelerator, dy, g.OutputShape);
        using var outputGradBuffer = outputGrad.Buffer;
        var switches = Host.Upload(accelerator, argmax, g.OutputShape);
        using var switchesBuffer = switches.Buffer;
        var inputGrad = Host.Allocate<float>(accelerator, g.InputShape);
        using var inputGradBuffer = inputGrad.Buffer;
        MaxPoolWithArgmax.BackwardWith(accelerator.DefaultStream, outputGrad.View, switches.View, inputGrad.View, g.Options, includeBatch, hostShaped);
        return Host.Download(inputGrad.View);
    }

    private static float[] Unpool(Accelerator accelerator, float[] values, long[] argmax, Shape valuesShape, Shape outputShape,
                                  bool includeBatch, UnpoolIndices indices, bool hostShaped) =>
        UnpoolTests.Forward(accelerator, values, argmax, valuesShape, outputShape, includeBatch, indices, hostShaped);

    private static bool NonOverlapping(PoolReference.Geometry g) => g.KH <= g.SH && g.KW <= g.SW;

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesTheLaneKernelAndTheReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        int k = 0;
        foreach (var g in All)
        {
            var x = Input(500 + k++, g.InputSize);
            foreach (bool includeBatch in new[] { false, true })
            {
                var (values, argmax) = Forward(acc, x, g, includeBatch, hostShaped: true);
                var (laneValues, laneArgmax) = Forward(acc, x, g, includeBatch, hostShaped: false);
                var (refValues, refArgmax) = PoolReference.MaxWithArgmax(x, g, includeBatch);
                Check.Equal<long>(refArgmax, argmax, $"host argmax vs reference, {g}, includeBatch {includeBatch}");
                Check.Equal<long>(laneArgmax, argmax, $"host argmax vs lane kernel, {g}, includeBatch {includeBatch}");
                Check.Equal<float>(refValues, values, $"host values vs reference, {g}, includeBatch {includeBatch}");
                Check.Equal<float>(laneValues, values, $"host values vs lane kernel, {g}, includeBatch {includeBatch}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardKeepsTheFirstMaximumAndTheFirstNaNInEveryChannel(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        // One 2x2 window, 11 channels (a block and a tail); channel c holds the pattern written in its column.
        var g = new PoolReference.Geometry(1, 2, 2, 11, 2, 2, 2, 2, Padding.Valid);
        float nan = float.NaN, inf = float.PositiveInfinity, ninf = float.NegativeInfinity;
        float[][] cells =
        [
            // c: 0     1     2     3     4     5     6    7     8    9     10
            [  1f,   2f,  nan,  ninf,  0f,  -0f,  inf,  3f,  nan, 5f,   -1f ],   // (0, 0)
            [  1f,   1f,   9f,  ninf, -0f,   0f,  inf,  nan, 1f,  5f,   -2f ],   // (0, 1)
            [  2f,   2f,  nan,  ninf,  0f,   0f,  nan,  nan, 2f,  6f,   -1f ],   // (1, 0)
            [  2f,   3f,   9f,  ninf,  1f,  -0f,  inf,  1f,  nan, 6f,   -1f ],   // (1, 1)
        ];
        var x = cells.SelectMany(row => row).ToArray();
        long[] expectedCell = [2, 3, 0, 0, 3, 0, 2, 1, 0, 2, 0];
        var (values, argmax) = Forward(acc, x, g, includeBatch: false, hostShaped: true);
        for (int c = 0; c < 11; c++)
        {
            Assert.Equal(expectedCell[c] * 11 + c, argmax[c]);
            Assert.Equal(BitConverter.SingleToInt32Bits(x[argmax[c]]), BitConverter.SingleToInt32Bits(values[c]));
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesTheLaneKernel(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        int k = 0;
        foreach (var g in All)
        {
            var x = Input(600 + k, g.InputSize);
            var dy = Host.Random(700 + k++, g.OutputSize);
            foreach (bool includeBatch in new[] { false, true })
            {
                var (_, argmax) = PoolReference.MaxWithArgmax(x, g, includeBatch);
                // Switches that name no cell of their window (another cell, another channel, another image, out of range,
                // or 2^32 away from their own cell, so that only their low 32 bits name it) contribute nothing on either path.
                var random = new Random(800 + k);
                long image = (long)g.H * g.W * g.C;
                for (long o = 0; o < argmax.Length; o += 5)
                {
                    argmax[o] = random.Next(6) switch
                    {
                        0 => argmax[o] + 1,
                        1 => argmax[o] - g.C,
                        2 => argmax[o] + image,
                        3 => argmax[o] + (1L << 32),
                        4 => argmax[o] - (1L << 32),
                        _ => -1,
                    };
                }
                var host = Backward(acc, dy, argmax, g, includeBatch, hostShaped: true);
                var lanes = Backward(acc, dy, argmax, g, includeBatch, hostShaped: false);
                Check.Equal<float>(lanes, host, $"host backward vs lane kernel, {g}, includeBatch {includeBatch}");
                if (NonOverlapping(g))
                {
                    // One window per cell: the gradient is dy where a switch names a cell of its own window, else 0.
                    var expected = new float[g.InputSize];
                    for (int b = 0; b < g.N; b++)
                    for (int oy = 0; oy < g.OutH; oy++)
                    for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < g.C; c++)
                    {
                        long o = g.OutputIndex(b, oy, ox, c);
                        foreach (var (y, xx) in g.Window(oy, ox))
                        {
                            long cell = g.InputIndex(b, y, xx, c);
                            if (argmax[o] == (includeBatch ? cell : cell - b * image)) expected[cell] = dy[o];
                        }
                    }
                    Check.Equal<float>(expected, host, $"host backward vs expected, {g}, includeBatch {includeBatch}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void UnpoolOfSwitchesMatchesTheLaneKernels(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        int k = 0;
        foreach (var g in All.Where(NonOverlapping))
        {
            var x = Input(900 + k++, g.InputSize);
            foreach (bool includeBatch in new[] { false, true })
            {
                var (values, argmax) = PoolReference.MaxWithArgmax(x, g, includeBatch);
                // Every switch gets its value back, every other cell 0 (unique targets: stores, not sums, so -0 stays -0).
                var expected = new float[g.InputSize];
                long image = (long)g.H * g.W * g.C, outPerImage = (long)g.OutH * g.OutW * g.C;
                for (long o = 0; o < argmax.Length; o++) expected[includeBatch ? argmax[o] : o / outPerImage * image + argmax[o]] = values[o];
                foreach (var indices in new[] { UnpoolIndices.Validate, UnpoolIndices.TrustedUnique })
                {
                    var host = Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch, indices, hostShaped: true);
                    var lanes = Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch, indices, hostShaped: false);
                    Check.Equal<float>(expected, host, $"host unpool vs expected, {g}, includeBatch {includeBatch}, {indices}");
                    Check.Equal<float>(lanes, host, $"host unpool vs lane kernels, {g}, includeBatch {includeBatch}, {indices}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ValidatedUnpoolFallsBackForDuplicatesAndForeignTargets(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        // 5 channels (masked vectors) and 16 (whole vectors: the unrolled 2x2 blocks, a one-column block at the right edge).
        foreach (int channels in new[] { 5, 16 })
        {
            var valuesShape = new Shape(2, 3, 3, channels);
            var outputShape = new Shape(2, 6, 5, channels);
            var values = Input(31, valuesShape.Size);
            long image = (long)outputShape[1] * outputShape[2] * outputShape[3];
            int half = (int)valuesShape.Size / 2;
            var random = new Random(32);
            foreach (bool includeBatch in new[] { false, true })
            {
                long range = includeBatch ? outputShape.Size : image;
                // A permutation (unique, but not in the elements' blocks) and a small range (many duplicates, summed in order).
                var permutation = Enumerable.Range(0, (int)range).Select(i => (long)i).ToArray();
                random.Shuffle(permutation);
                var unique = permutation[..(int)valuesShape.Size];
                if (!includeBatch)
                {
                    for (int e = half; e < 2 * half; e++) unique[e] = permutation[e + 5];
                }
                var crowded = Enumerable.Range(0, (int)valuesShape.Size).Select(_ => random.NextInt64(7)).ToArray();
                foreach (var (argmax, what) in new[] { (unique, "permutation"), (crowded, "duplicates") })
                {
                    var host = Unpool(acc, values, argmax, valuesShape, outputShape, includeBatch, UnpoolIndices.Validate, hostShaped: true);
                    var lanes = Unpool(acc, values, argmax, valuesShape, outputShape, includeBatch, UnpoolIndices.Validate, hostShaped: false);
                    // Unique targets take plain stores (-0 stays -0); repeated ones sum from 0 in element order.
                    var expected = new float[outputShape.Size];
                    for (long e = 0; e < argmax.Length; e++)
                    {
                        long t = includeBatch ? argmax[e] : e / (valuesShape.Size / 2) * image + argmax[e];
                        expected[t] = argmax == unique ? values[e] : expected[t] + values[e];
                    }
                    Check.Equal<float>(expected, host, $"host unpool vs in-order sums, {what}, {channels} channels, includeBatch {includeBatch}");
                    Check.Equal<float>(lanes, host, $"host unpool vs lane kernels, {what}, {channels} channels, includeBatch {includeBatch}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ValidatedUnpoolNamesTheFirstBadElementOnBothPaths(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        var g = new PoolReference.Geometry(2, 6, 6, 9, 2, 2, 2, 2, Padding.Same);
        var (values, argmax) = PoolReference.MaxWithArgmax(Input(41, g.InputSize), g, includeBatch: false);
        long image = (long)g.H * g.W * g.C;
        // Element 75 is [0, 2, 2, 3]; the later bad ones (one far away in another row's lane) must not be reported.
        argmax[75] = image;
        argmax[130] = -1;
        argmax[150] = image + 5;
        foreach (bool hostShaped in new[] { true, false })
        {
            var error = Assert.Throws<ArgumentException>(() =>
                Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch: false, UnpoolIndices.Validate, hostShaped));
            Assert.Contains($"Unpool: argmax[0, 2, 2, 3] (element 75, the first bad one) is {image}", error.Message);
            Assert.Contains($"[0, {image})", error.Message);
        }
        // TrustedUnique skips the bad ones and keeps the rest.
        var expected = new float[g.InputSize];
        for (long o = 0; o < argmax.Length; o++)
        {
            if (argmax[o] >= 0 && argmax[o] < image) expected[o / (argmax.Length / 2) * image + argmax[o]] = values[o];
        }
        foreach (bool hostShaped in new[] { true, false })
        {
            Check.Equal<float>(expected, Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch: false, UnpoolIndices.TrustedUnique, hostShaped),
                $"trusted unique skips out-of-range, host-shaped {hostShaped}");
        }
    }
    /// <summary>
    /// The tutorial's pool1 at the smallest batch whose traffic makes the host route write with non-temporal stores
    /// (HostMask.Streams): argmax pooling, its backward and unpooling keep the lane kernels' bits.
    /// </summary>
    [Fact]
    public void PoolsThatStreamTheirStoresKeepTheLaneKernelsBits()
    {
        var acc = TestAccelerators.Cpu;
        if (HostRoute.Of(acc.DefaultStream) is null) Assert.Skip("This CPU or setting has no 512-bit host route.");
        const long BytesPerImage = 24 * 24 * 64 * 4 + 2 * (12 * 12 * 64 * (4 + 8));
        int batch = 1;
        while (!HostMask.Streams(batch * BytesPerImage)) batch *= 2;
        var g = new PoolReference.Geometry(batch, 24, 24, 64, 2, 2, 2, 2, Padding.Same);
        var x = Input(950, g.InputSize);
        var (values, argmax) = Forward(acc, x, g, includeBatch: false, hostShaped: true);
        var (laneValues, laneArgmax) = Forward(acc, x, g, includeBatch: false, hostShaped: false);
        Check.Equal<long>(laneArgmax, argmax, $"streamed argmax vs lane kernel, {g}");
        Check.Equal<float>(laneValues, values, $"streamed values vs lane kernel, {g}");
        var dy = Host.Random(951, g.OutputSize);
        Check.Equal<float>(Backward(acc, dy, argmax, g, includeBatch: false, hostShaped: false),
            Backward(acc, dy, argmax, g, includeBatch: false, hostShaped: true), $"streamed backward vs lane kernel, {g}");
        foreach (var indices in new[] { UnpoolIndices.Validate, UnpoolIndices.TrustedUnique })
        {
            Check.Equal<float>(Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch: false, indices, hostShaped: false),
                Unpool(acc, values, argmax, g.OutputShape, g.InputShape, includeBatch: false, indices, hostShaped: true),
                $"streamed unpool vs lane kernels, {g}, {indices}");
        }
    }
}
