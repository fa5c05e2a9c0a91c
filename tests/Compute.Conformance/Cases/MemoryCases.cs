namespace GpuDeconv.Compute.Conformance;

// Index spaces, multi-dimensional views and their layouts, sub-views, casts, copies, memset and
// streams. Layouts: DenseX puts x contiguous (x + y*ex), DenseY y contiguous (x*ey + y, the
// layout of a C# [x, y] array); DenseXY and DenseZY likewise in 3-D.
internal static class MemoryCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("memory.implicit-2d-densex", "memory", Implicit2DDenseX);
        yield return new("memory.implicit-2d-densey", "memory", Implicit2DDenseY);
        yield return new("memory.implicit-3d", "memory", Implicit3D);
        yield return new("memory.large-1d-grid-stride", "memory", Large1D);
        yield return new("memory.subview", "memory", SubViews);
        yield return new("memory.cast", "memory", Casts);
        yield return new("memory.copies", "memory", Copies);
        yield return new("memory.copies-2d-3d", "memory", Copies2D3D);
        yield return new("memory.memset", "memory", MemSets);
        yield return new("memory.streams", "memory", Streams);
    }

    private static int Code(int x, int y, int z) => x + 1000 * y + 1000000 * z;

    private static void FillDenseX(Index2D index, ArrayView2D<int, Stride2D.DenseX> view) => view[index] = Code(index.X, index.Y, 0);

    private static void FillDenseY(Index2D index, ArrayView2D<int, Stride2D.DenseY> view) => view[index.X, index.Y] = Code(index.X, index.Y, 0);

    private static void FillDenseXY(Index3D index, ArrayView3D<int, Stride3D.DenseXY> view) => view[index] = Code(index.X, index.Y, index.Z);

    private static void FillDenseZY(Index3D index, ArrayView3D<int, Stride3D.DenseZY> view, ArrayView<int> flat)
    {
        view[index.X, index.Y, index.Z] = Code(index.X, index.Y, index.Z);
        // The implicit 3-D index linearises X fastest; every index is visited exactly once.
        Atomic.Add(ref flat[index.X + view.IntExtent.X * (index.Y + view.IntExtent.Y * index.Z)], 1);
    }

    private static void Implicit2DDenseX(Accelerator accelerator)
    {
        var extent = new Index2D(13, 7);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView2D<int, Stride2D.DenseX>>(FillDenseX);
        using var buffer = accelerator.Allocate2DDenseX<int>(extent);
        kernel(extent, buffer.View);
        Check2D(buffer.GetAsArray2D(), buffer.GetAsArray1D(), extent, (x, y) => x + y * extent.X, "DenseX");
    }

    private static void Implicit2DDenseY(Accelerator accelerator)
    {
        var extent = new Index2D(13, 7);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView2D<int, Stride2D.DenseY>>(FillDenseY);
        using var buffer = accelerator.Allocate2DDenseY<int>(extent);
        kernel(extent, buffer.View);
        Check2D(buffer.GetAsArray2D(), buffer.GetAsArray1D(), extent, (x, y) => x * extent.Y + y, "DenseY");
    }

    private static void Check2D(int[,] logical, int[] physical, Index2D extent, Func<int, int, int> offset, string stride)
    {
        var expectedLogical = new int[extent.Size];
        var actualLogical = new int[extent.Size];
        var expectedPhysical = new int[extent.Size];
        for (int x = 0; x < extent.X; x++)
            for (int y = 0; y < extent.Y; y++)
            {
                expectedLogical[x * extent.Y + y] = Code(x, y, 0);
                actualLogical[x * extent.Y + y] = logical[x, y];
                expectedPhysical[offset(x, y)] = Code(x, y, 0);
            }
        Check.Equal<int>(expectedLogical, actualLogical, $"{stride} GetAsArray2D()[x, y] (value x + 1000y)", i => $"(x={i / extent.Y}, y={i % extent.Y})");
        Check.Equal<int>(expectedPhysical, physical, $"{stride} memory layout", i => $"offset {i}");
    }

    private static void Implicit3D(Accelerator accelerator)
    {
        var extent = new Index3D(5, 4, 3);
        var xy = accelerator.LoadAutoGroupedStreamKernel<Index3D, ArrayView3D<int, Stride3D.DenseXY>>(FillDenseXY);
        var zy = accelerator.LoadAutoGroupedStreamKernel<Index3D, ArrayView3D<int, Stride3D.DenseZY>, ArrayView<int>>(FillDenseZY);
        using var bufferXY = accelerator.Allocate3DDenseXY<int>(extent);
        using var bufferZY = accelerator.Allocate3DDenseZY<int>(extent);
        using var visits = accelerator.Allocate1D<int>(extent.Size);
        visits.MemSetToZero();
        xy(extent, bufferXY.View);
        zy(extent, bufferZY.View, visits.View);
        int[,,] logicalXY = bufferXY.GetAsArray3D(), logicalZY = bufferZY.GetAsArray3D();
        int[] physicalXY = bufferXY.GetAsArray1D(), physicalZY = bufferZY.GetAsArray1D();
        int n = extent.Size;
        int[] expectedLogical = new int[n], actualXY = new int[n], actualZY = new int[n], expectedXY = new int[n], expectedZY = new int[n];
        for (int x = 0; x < extent.X; x++)
            for (int y = 0; y < extent.Y; y++)
                for (int z = 0; z < extent.Z; z++)
                {
                    int c = Code(x, y, z), l = (x * extent.Y + y) * extent.Z + z;
                    expectedLogical[l] = c;
                    actualXY[l] = logicalXY[x, y, z];
                    actualZY[l] = logicalZY[x, y, z];
                    expectedXY[x + extent.X * (y + extent.Y * z)] = c;
                    expectedZY[z + extent.Z * (y + extent.Y * x)] = c;
                }
        Check.Equal<int>(expectedLogical, actualXY, "DenseXY GetAsArray3D()[x, y, z]");
        Check.Equal<int>(expectedLogical, actualZY, "DenseZY GetAsArray3D()[x, y, z]");
        Check.Equal<int>(expectedXY, physicalXY, "DenseXY memory layout (x + ex*(y + ey*z))");
        Check.Equal<int>(expectedZY, physicalZY, "DenseZY memory layout (z + ez*(y + ey*x))");
        Check.Equal<int>(Enumerable.Repeat(1, n).ToArray(), visits.GetAsArray1D(), "visits per 3-D index");
    }

    private static void CountKernel(Index1D index, ArrayView<int> data) => data[index] += index.X % 7 + 1;

    // More indices than any grid covers at once: the grid-stride loop must reach all of them once.
    private static void Large1D(Accelerator accelerator)
    {
        const int n = 3_000_017;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(CountKernel);
        using var data = accelerator.Allocate1D<int>(n);
        data.MemSetToZero();
        kernel(n, data.View);
        var expected = new int[n];
        for (int i = 0; i < n; i++) expected[i] = i % 7 + 1;
        Check.Equal<int>(expected, data.GetAsArray1D(), $"{n} indices each visited once");
    }

    private static void MarkKernel(Index1D index, ArrayView<int> view, int bias) => view[index] = index + bias;

    private static void SubViews(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int>(MarkKernel);
        using var buffer = accelerator.Allocate1D<int>(64);
        buffer.MemSetToZero();
        var sub = buffer.View.SubView(10, 20);
        kernel(sub.IntLength, sub, 100);
        var nested = buffer.View.SubView(40, 20).SubView(5, 6); // elements 45..50
        kernel(nested.IntLength, nested, 500);
        var expected = new int[64];
        for (int i = 0; i < 20; i++) expected[10 + i] = i + 100;
        for (int i = 0; i < 6; i++) expected[45 + i] = i + 500;
        Check.Equal<int>(expected, buffer.GetAsArray1D(), "writes through SubView(10, 20) and SubView(40, 20).SubView(5, 6)");
        Check.Equal<int>(expected.AsSpan(10, 20), sub.GetAsArray1D(), "GetAsArray1D of the sub-view");
    }

    private static void BitsKernel(Index1D index, ArrayView<int> bits) => bits[index] = 0x3F800000 + (index << 23);

    private static void WideKernel(Index1D index, ArrayView<long> wide) => wide[index] = ((long)(index.X + 1) << 32) | (uint)(index.X + 7);

    private static void Casts(Accelerator accelerator)
    {
        var bitsKernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(BitsKernel);
        var wideKernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>>(WideKernel);
        using var floats = accelerator.Allocate1D<float>(6);
        var asInts = floats.View.Cast<int>();
        Check.Equal(6L, asInts.Length, "float -> int cast length");
        bitsKernel(6, asInts);
        Check.Equal<float>([1f, 2f, 4f, 8f, 16f, 32f], floats.GetAsArray1D(), "floats written through Cast<int>()");

        using var ints = accelerator.Allocate1D<int>(10);
        ints.MemSetToZero();
        var asLongs = ints.View.SubView(2, 8).Cast<long>();
        Check.Equal(4L, asLongs.Length, "int -> long cast length");
        wideKernel(4, asLongs);
        // Little-endian: the low word comes first.
        Check.Equal<int>([0, 0, 7, 1, 8, 2, 9, 3, 10, 4], ints.GetAsArray1D(), "ints written through SubView(2, 8).Cast<long>()");
    }

    private static void Copies(Accelerator accelerator)
    {
        const int n = 1000;
        int[] data = Enumerable.Range(0, n).Select(i => i * 3 - 7).ToArray();
        using var a = accelerator.Allocate1D<int>(n);
        using var b = accelerator.Allocate1D<int>(n);
        a.CopyFromCPU(data);
        var back = new int[n];
        a.CopyToCPU(back);
        Check.Equal<int>(data, back, "CopyFromCPU then CopyToCPU");

        b.MemSetToZero();
        a.View.CopyTo(b.View);
        Check.Equal<int>(data, b.GetAsArray1D(), "device-to-device CopyTo");

        b.MemSetToZero();
        a.View.SubView(100, 50).CopyTo(b.View.SubView(900, 50));
        var expected = new int[n];
        data.AsSpan(100, 50).CopyTo(expected.AsSpan(900));
        Check.Equal<int>(expected, b.GetAsArray1D(), "sub-view device-to-device copy [100, 150) -> [900, 950)");

        b.View.SubView(10, 5).CopyFromCPU(new[] { 1, 2, 3, 4, 5 });
        var partial = new int[5];
        b.View.SubView(8, 5).CopyToCPU(partial);
        Check.Equal<int>([0, 0, 1, 2, 3], partial, "sub-view CopyFromCPU / CopyToCPU");

        using var other = accelerator.Allocate1D(data.AsSpan(0, 10).ToArray());
        Check.Equal<int>(data.AsSpan(0, 10), other.GetAsArray1D(), "Allocate1D(array)");

        using var empty = accelerator.Allocate1D<int>(0);
        Check.Equal(0, empty.GetAsArray1D().Length, "empty buffer GetAsArray1D length");
    }

    private static void Copies2D3D(Accelerator accelerator)
    {
        var data2 = new float[6, 11];
        for (int x = 0; x < 6; x++)
            for (int y = 0; y < 11; y++)
                data2[x, y] = x * 100 + y;
        using var dx = accelerator.Allocate2DDenseX(data2);
        using var dy = accelerator.Allocate2DDenseY(data2);
        Check.True(Same(data2, dx.GetAsArray2D()), "Allocate2DDenseX(data).GetAsArray2D() differs from data.");
        Check.True(Same(data2, dy.GetAsArray2D()), "Allocate2DDenseY(data).GetAsArray2D() differs from data.");
        Check.Equal<float>(data2.Cast<float>().ToArray(), dy.GetAsArray1D(), "DenseY layout equals the C# array layout");
        using var dx2 = accelerator.Allocate2DDenseX<float>(new Index2D(6, 11));
        dx.View.CopyTo(dx2.View);
        Check.True(Same(data2, dx2.GetAsArray2D()), "2-D device-to-device CopyTo differs from the source.");

        var data3 = new int[3, 4, 5];
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 4; y++)
                for (int z = 0; z < 5; z++)
                    data3[x, y, z] = Code(x, y, z);
        using var xy = accelerator.Allocate3DDenseXY(data3);
        using var zy = accelerator.Allocate3DDenseZY(data3);
        Check.Equal<int>(data3.Cast<int>().ToArray(), xy.GetAsArray3D().Cast<int>().ToArray(), "Allocate3DDenseXY(data).GetAsArray3D()");
        Check.Equal<int>(data3.Cast<int>().ToArray(), zy.GetAsArray3D().Cast<int>().ToArray(), "Allocate3DDenseZY(data).GetAsArray3D()");
        Check.Equal<int>(data3.Cast<int>().ToArray(), zy.GetAsArray1D(), "DenseZY layout equals the C# array layout");
    }

    private static bool Same(float[,] a, float[,] b) =>
        a.GetLength(0) == b.GetLength(0) && a.GetLength(1) == b.GetLength(1) && a.Cast<float>().SequenceEqual(b.Cast<float>());

    private static void MemSets(Accelerator accelerator)
    {
        using var buffer = accelerator.Allocate1D(Enumerable.Repeat(-1, 100).ToArray());
        buffer.View.SubView(30, 40).MemSetToZero();
        var expected = Enumerable.Repeat(-1, 100).ToArray();
        Array.Clear(expected, 30, 40);
        Check.Equal<int>(expected, buffer.GetAsArray1D(), "MemSetToZero on SubView(30, 40) only");
        buffer.MemSetToZero();
        Check.Equal<int>(new int[100], buffer.GetAsArray1D(), "MemSetToZero on the whole buffer");
        // An odd byte count and offset: the fill must not round to words.
        using var bytes = accelerator.Allocate1D(Enumerable.Repeat((byte)0xFF, 13).ToArray());
        bytes.View.SubView(3, 7).MemSetToZero();
        Check.Equal<byte>([0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF], bytes.GetAsArray1D(), "MemSetToZero on bytes [3, 10)");
    }

    private static void AddKernel(Index1D index, ArrayView<int> data, int value) => data[index] = data[index] * 3 + value;

    private static void Streams(Accelerator accelerator)
    {
        const int n = 4096, steps = 40;
        var kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>, int>(AddKernel);
        using var s1 = accelerator.CreateStream();
        using var s2 = accelerator.CreateStream();
        using var a = accelerator.Allocate1D<int>(n);
        using var b = accelerator.Allocate1D<int>(n);
        using var c = accelerator.Allocate1D<int>(n);
        a.MemSetToZero();
        b.MemSetToZero();
        accelerator.Synchronize();
        using var start = s1.RecordMarker();
        // Order within a stream matters: x -> 3x + k is not commutative.
        for (int k = 0; k < steps; k++)
        {
            kernel(s1, n, a.View, k);
            kernel(s2, n, b.View, 2 * k + 1);
        }
        a.View.BaseView.CopyTo(s1, c.View);
        kernel(s1, n, c.View, 5);
        using var end = s1.RecordMarker();
        s1.Synchronize();
        s2.Synchronize();
        int ea = 0, eb = 0;
        for (int k = 0; k < steps; k++)
        {
            ea = ea * 3 + k;
            eb = eb * 3 + 2 * k + 1;
        }
        Check.Equal<int>(Enumerable.Repeat(ea, n).ToArray(), a.GetAsArray1D(), "stream 1 sequence");
        Check.Equal<int>(Enumerable.Repeat(eb, n).ToArray(), b.GetAsArray1D(), "stream 2 sequence");
        Check.Equal<int>(Enumerable.Repeat(ea * 3 + 5, n).ToArray(), c.GetAsArray1D(), "copy and launch queued on stream 1 after its sequence");
        double ms = end.ElapsedMillisecondsSince(start);
        Check.True(ms >= 0 && double.IsFinite(ms), $"stream markers: elapsed {ms} ms, expected a finite non-negative time.");

        var host = new int[n];
        b.View.CopyToCPU(s2, host);
        s2.Synchronize();
        Check.Equal(eb, host[n - 1], "CopyToCPU on stream 2");
    }
}
