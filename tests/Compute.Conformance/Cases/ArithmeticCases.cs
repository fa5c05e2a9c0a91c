namespace GpuDeconv.Compute.Conformance;

// Integer and floating-point operators and conversions. Each operation is a static helper used
// both by the kernel (translated to C on devices) and by the host reference (plain .NET), so a
// device result must match .NET exactly: wrap-around on overflow, shift counts masked like C#,
// truncating division, saturating float-to-integer casts (.NET 9+), fmod for float %.
internal static class ArithmeticCases
{
    private const int IntOpCount = 14;
    private const int LongOpCount = 14;
    private const int FloatOpCount = 6;

    private static readonly int[] IntValues =
    [
        0, 1, -1, 2, -2, 3, -3, 7, -7, 31, 32, 33, 63, 64, 100, -100, 12345678, -98765,
        int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1, 0x55555555, unchecked((int)0xAAAAAAAA),
    ];

    private static readonly long[] LongValues =
    [
        0, 1, -1, 2, -2, 3, -7, 31, 32, 63, 64, 65, 100, -100, 1234567890123L, -987654321098L,
        long.MaxValue, long.MinValue, long.MaxValue - 1, int.MaxValue, (long)int.MaxValue + 1, int.MinValue, 0x5555555555555555L,
    ];

    private static readonly float[] FloatValues =
    [
        0f, -0f, 1f, -1f, 0.5f, -2.5f, 3f, 7.25f, -7.75f, 1e-3f, 1e10f, -1e10f, 3.4e38f, 1e-40f,
        float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
        16777217f, 2147483520f, 2147483648f, 4294967040f, -2147483904f, 0.1f, 1.0e-7f, 123456.789f,
    ];

    private static readonly double[] DoubleValues =
    [
        0d, -0d, 1d, -1d, 0.5d, -2.5d, 3d, 7.25d, -7.75d, 1e-3d, 1e10d, -1e10d, 1e300d, 1e-310d, double.Epsilon,
        double.MaxValue, double.MinValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.1d,
        9007199254740993d, 2147483647.75d, -2147483648.5d, 3.4028235677973366e38d, 1.401298464324817e-45d, 123456.789d,
    ];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("arithmetic.int32", "arithmetic", Int32Ops);
        yield return new("arithmetic.uint32", "arithmetic", UInt32Ops);
        yield return new("arithmetic.int64", "arithmetic", Int64Ops);
        yield return new("arithmetic.uint64", "arithmetic", UInt64Ops);
        yield return new("arithmetic.float32", "arithmetic", Float32Ops);
        yield return new("arithmetic.float64", "arithmetic", Float64Ops);
        yield return new("arithmetic.literals", "arithmetic", LiteralEdges);
        yield return new("conversions.from-float32", "arithmetic", ConversionsFromFloat);
        yield return new("conversions.from-float64", "arithmetic", ConversionsFromDouble);
        yield return new("conversions.from-integers", "arithmetic", ConversionsFromIntegers);
    }

    // ---- int / uint ----

    private static int IntOp(int op, int a, int b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            // int.MinValue / -1 throws in .NET and is undefined in C: excluded (documented deviation).
            case 3: return b == 0 || (a == int.MinValue && b == -1) ? 0 : a / b;
            case 4: return b == 0 || (a == int.MinValue && b == -1) ? 0 : a % b;
            case 5: return a << b;
            case 6: return a >> b;
            case 7: return (int)((uint)a >> b);
            case 8: return a & b;
            case 9: return a | b;
            case 10: return a ^ b;
            case 11: return ~a;
            case 12: return -a;
            default: return (a < b ? 1 : 0) + (a <= b ? 2 : 0) + (a == b ? 4 : 0) + (a != b ? 8 : 0) + (a > b ? 16 : 0) + (a >= b ? 32 : 0);
        }
    }

    private static uint UIntOp(int op, uint a, uint b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            case 3: return b == 0 ? 0u : a / b;
            case 4: return b == 0 ? 0u : a % b;
            case 5: return a << (int)b;
            case 6: return a >> (int)b;
            case 7: return (uint)((int)a >> (int)b);
            case 8: return a & b;
            case 9: return a | b;
            case 10: return a ^ b;
            case 11: return ~a;
            case 12: return 0u - a;
            default: return (a < b ? 1u : 0u) + (a <= b ? 2u : 0u) + (a == b ? 4u : 0u) + (a > b ? 16u : 0u);
        }
    }

    private static void IntKernel(Index1D index, ArrayView<int> values, ArrayView<int> results)
    {
        int n = values.IntLength;
        int a = values[index / n];
        int b = values[index % n];
        for (int op = 0; op < IntOpCount; op++)
            results[index * IntOpCount + op] = IntOp(op, a, b);
    }

    private static void UIntKernel(Index1D index, ArrayView<uint> values, ArrayView<uint> results)
    {
        int n = values.IntLength;
        uint a = values[index.X / n];
        uint b = values[index.X % n];
        for (int op = 0; op < IntOpCount; op++)
            results[index.X * IntOpCount + op] = UIntOp(op, a, b);
    }

    private static void Int32Ops(Accelerator accelerator)
    {
        int n = IntValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(IntKernel);
        using var values = accelerator.Allocate1D(IntValues);
        using var results = accelerator.Allocate1D<int>(n * n * IntOpCount);
        kernel(n * n, values.View, results.View);
        int[] actual = results.GetAsArray1D();

        var expected = new int[actual.Length];
        for (int i = 0; i < n * n; i++)
            for (int op = 0; op < IntOpCount; op++)
                expected[i * IntOpCount + op] = IntOp(op, IntValues[i / n], IntValues[i % n]);
        Check.Equal<int>(expected, actual, "int32 operators", i => DescribePair(IntValues, n, IntOpCount, i));
    }

    private static void UInt32Ops(Accelerator accelerator)
    {
        uint[] inputs = Array.ConvertAll(IntValues, v => (uint)v);
        int n = inputs.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<uint>>(UIntKernel);
        using var values = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<uint>(n * n * IntOpCount);
        kernel(n * n, values.View, results.View);
        uint[] actual = results.GetAsArray1D();

        var expected = new uint[actual.Length];
        for (int i = 0; i < n * n; i++)
            for (int op = 0; op < IntOpCount; op++)
                expected[i * IntOpCount + op] = UIntOp(op, inputs[i / n], inputs[i % n]);
        Check.Equal<uint>(expected, actual, "uint32 operators", i => DescribePair(inputs, n, IntOpCount, i));
    }

    // ---- long / ulong ----

    private static long LongOp(int op, long a, long b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            case 3: return b == 0 || (a == long.MinValue && b == -1) ? 0 : a / b;
            case 4: return b == 0 || (a == long.MinValue && b == -1) ? 0 : a % b;
            case 5: return a << (int)b;
            case 6: return a >> (int)b;
            case 7: return (long)((ulong)a >> (int)b);
            case 8: return a & b;
            case 9: return a | b;
            case 10: return a ^ b;
            case 11: return ~a;
            case 12: return -a;
            default: return (a < b ? 1 : 0) + (a <= b ? 2 : 0) + (a == b ? 4 : 0) + (a > b ? 16 : 0);
        }
    }

    private static ulong ULongOp(int op, ulong a, ulong b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            case 3: return b == 0 ? 0ul : a / b;
            case 4: return b == 0 ? 0ul : a % b;
            case 5: return a << (int)b;
            case 6: return a >> (int)b;
            case 7: return (ulong)((long)a >> (int)b);
            case 8: return a & b;
            case 9: return a | b;
            case 10: return a ^ b;
            case 11: return ~a;
            case 12: return 0ul - a;
            default: return (a < b ? 1ul : 0ul) + (a > b ? 16ul : 0ul);
        }
    }

    private static void LongKernel(Index1D index, ArrayView<long> values, ArrayView<long> results)
    {
        int n = values.IntLength;
        long a = values[index / n];
        long b = values[index % n];
        for (int op = 0; op < LongOpCount; op++)
            results[index * LongOpCount + op] = LongOp(op, a, b);
    }

    private static void ULongKernel(Index1D index, ArrayView<ulong> values, ArrayView<ulong> results)
    {
        int n = values.IntLength;
        ulong a = values[index / n];
        ulong b = values[index % n];
        for (int op = 0; op < LongOpCount; op++)
            results[index * LongOpCount + op] = ULongOp(op, a, b);
    }

    private static void Int64Ops(Accelerator accelerator)
    {
        int n = LongValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>>(LongKernel);
        using var values = accelerator.Allocate1D(LongValues);
        using var results = accelerator.Allocate1D<long>(n * n * LongOpCount);
        kernel(n * n, values.View, results.View);
        long[] actual = results.GetAsArray1D();

        var expected = new long[actual.Length];
        for (int i = 0; i < n * n; i++)
            for (int op = 0; op < LongOpCount; op++)
                expected[i * LongOpCount + op] = LongOp(op, LongValues[i / n], LongValues[i % n]);
        Check.Equal<long>(expected, actual, "int64 operators", i => DescribePair(LongValues, n, LongOpCount, i));
    }

    private static void UInt64Ops(Accelerator accelerator)
    {
        ulong[] inputs = Array.ConvertAll(LongValues, v => (ulong)v);
        int n = inputs.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ulong>, ArrayView<ulong>>(ULongKernel);
        using var values = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<ulong>(n * n * LongOpCount);
        kernel(n * n, values.View, results.View);
        ulong[] actual = results.GetAsArray1D();

        var expected = new ulong[actual.Length];
        for (int i = 0; i < n * n; i++)
            for (int op = 0; op < LongOpCount; op++)
                expected[i * LongOpCount + op] = ULongOp(op, inputs[i / n], inputs[i % n]);
        Check.Equal<ulong>(expected, actual, "uint64 operators", i => DescribePair(inputs, n, LongOpCount, i));
    }

    // ---- float / double ----

    private static float FloatOp(int op, float a, float b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            case 3: return a / b;
            case 4: return a % b; // fmod: truncated quotient, sign of the dividend
            default: return -a;
        }
    }

    private static double DoubleOp(int op, double a, double b)
    {
        switch (op)
        {
            case 0: return a + b;
            case 1: return a - b;
            case 2: return a * b;
            case 3: return a / b;
            case 4: return a % b;
            default: return -a;
        }
    }

    private static void FloatKernel(Index1D index, ArrayView<float> values, ArrayView<float> results, ArrayView<int> compares)
    {
        int n = values.IntLength;
        float a = values[index / n];
        float b = values[index % n];
        for (int op = 0; op < FloatOpCount; op++)
            results[index * FloatOpCount + op] = FloatOp(op, a, b);
        // Comparisons with NaN are all false except !=.
        compares[index] = (a < b ? 1 : 0) | (a <= b ? 2 : 0) | (a == b ? 4 : 0) | (a != b ? 8 : 0) | (a > b ? 16 : 0) | (a >= b ? 32 : 0);
    }

    private static void DoubleKernel(Index1D index, ArrayView<double> values, ArrayView<double> results, ArrayView<int> compares)
    {
        int n = values.IntLength;
        double a = values[index / n];
        double b = values[index % n];
        for (int op = 0; op < FloatOpCount; op++)
            results[index * FloatOpCount + op] = DoubleOp(op, a, b);
        compares[index] = (a < b ? 1 : 0) | (a <= b ? 2 : 0) | (a == b ? 4 : 0) | (a != b ? 8 : 0) | (a > b ? 16 : 0) | (a >= b ? 32 : 0);
    }

    private static void Float32Ops(Accelerator accelerator)
    {
        int n = FloatValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>>(FloatKernel);
        using var values = accelerator.Allocate1D(FloatValues);
        using var results = accelerator.Allocate1D<float>(n * n * FloatOpCount);
        using var compares = accelerator.Allocate1D<int>(n * n);
        kernel(n * n, values.View, results.View, compares.View);
        float[] actual = results.GetAsArray1D();
        int[] actualCompares = compares.GetAsArray1D();

        var expected = new float[actual.Length];
        var expectedCompares = new int[n * n];
        for (int i = 0; i < n * n; i++)
        {
            float a = FloatValues[i / n], b = FloatValues[i % n];
            for (int op = 0; op < FloatOpCount; op++) expected[i * FloatOpCount + op] = FloatOp(op, a, b);
            expectedCompares[i] = (a < b ? 1 : 0) | (a <= b ? 2 : 0) | (a == b ? 4 : 0) | (a != b ? 8 : 0) | (a > b ? 16 : 0) | (a >= b ? 32 : 0);
        }
        // + - * and % are exact in IEEE 754 (no FMA contraction, no fast math). Division is
        // exact too on CUDA (prec-div) and correctly rounded on pocl; OpenCL 1.2 would allow
        // 2.5 ulp without -cl-fp32-correctly-rounded-divide-sqrt, so division gets 2 ulp.
        var divExpected = new List<float>();
        var divActual = new List<float>();
        for (int i = 0; i < actual.Length; i++)
        {
            if (i % FloatOpCount == 3)
            {
                divExpected.Add(expected[i]);
                divActual.Add(actual[i]);
                expected[i] = actual[i] = 0;
            }
        }
        Check.Equal<float>(expected, actual, "float32 operators (+ - * % neg, exact)", i => DescribePair(FloatValues, n, FloatOpCount, i));
        Check.Ulps(divExpected.ToArray(), divActual.ToArray(), 2, "float32 division",
            i => $"({Check.Format(FloatValues[i / n])} / {Check.Format(FloatValues[i % n])})");
        Check.Equal<int>(expectedCompares, actualCompares, "float32 comparisons (bits: < <= == != > >=)", i => DescribePair(FloatValues, n, 1, i));
    }

    private static void Float64Ops(Accelerator accelerator)
    {
        int n = DoubleValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>>(DoubleKernel);
        using var values = accelerator.Allocate1D(DoubleValues);
        using var results = accelerator.Allocate1D<double>(n * n * FloatOpCount);
        using var compares = accelerator.Allocate1D<int>(n * n);
        kernel(n * n, values.View, results.View, compares.View);
        double[] actual = results.GetAsArray1D();
        int[] actualCompares = compares.GetAsArray1D();

        var expected = new double[actual.Length];
        var expectedCompares = new int[n * n];
        for (int i = 0; i < n * n; i++)
        {
            double a = DoubleValues[i / n], b = DoubleValues[i % n];
            for (int op = 0; op < FloatOpCount; op++) expected[i * FloatOpCount + op] = DoubleOp(op, a, b);
            expectedCompares[i] = (a < b ? 1 : 0) | (a <= b ? 2 : 0) | (a == b ? 4 : 0) | (a != b ? 8 : 0) | (a > b ? 16 : 0) | (a >= b ? 32 : 0);
        }
        // Double division is correctly rounded in OpenCL (cl_khr_fp64) and CUDA: all exact.
        Check.Equal<double>(expected, actual, "float64 operators (+ - * / % neg, exact)", i => DescribePair(DoubleValues, n, FloatOpCount, i));
        Check.Equal<int>(expectedCompares, actualCompares, "float64 comparisons (bits: < <= == != > >=)", i => DescribePair(DoubleValues, n, 1, i));
    }

    // ---- literal edge cases written out, so the expected values document C# semantics ----

    private static void LiteralKernel(Index1D index, ArrayView<int> ints, ArrayView<long> longs, int one, int shift)
    {
        if (index.X != 0) return;
        int max = int.MaxValue;
        ints[0] = max + one;                 // wraps to int.MinValue
        ints[1] = int.MinValue - one;        // wraps to int.MaxValue
        ints[2] = one << (shift + 32);       // count masked to 5 bits: 1 << shift
        ints[3] = -7 / (one + 1);            // -3: truncation toward zero
        ints[4] = -7 % (one + 1);            // -1: sign of the dividend
        ints[5] = 7 % -(one + 1);            // 1
        ints[6] = -8 >> (one + 1);           // -2: arithmetic shift
        ints[7] = (int)(0x80000000u >> (one + 29)); // 2: logical shift
        ints[8] = max * (one + 1);           // -2
        ints[9] = (int)(uint.MaxValue + (uint)one); // 0
        longs[0] = long.MaxValue + one;      // long.MinValue
        longs[1] = 1L << (shift + 64);       // count masked to 6 bits
        longs[2] = 1L << (shift + 32);       // 2^(shift+32): not masked to 5 bits
        longs[3] = (long)int.MaxValue * (one + 1); // 4294967294, no 32-bit overflow
        longs[4] = -9L / (one + 1);          // -4
        longs[5] = (long)(ulong.MaxValue >> (shift + 1));
    }

    private static void LiteralEdges(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<long>, int, int>(LiteralKernel);
        using var ints = accelerator.Allocate1D<int>(10);
        using var longs = accelerator.Allocate1D<long>(6);
        const int shift = 3;
        kernel(4, ints.View, longs.View, 1, shift);
        int[] expectedInts = [int.MinValue, int.MaxValue, 1 << shift, -3, -1, 1, -2, 2, -2, 0];
        long[] expectedLongs = [long.MinValue, 1L << shift, 1L << (shift + 32), 4294967294L, -4L, (long)(ulong.MaxValue >> (shift + 1))];
        Check.Equal<int>(expectedInts, ints.GetAsArray1D(), "int edge literals");
        Check.Equal<long>(expectedLongs, longs.GetAsArray1D(), "long edge literals");
    }

    // ---- conversions ----

    private const int FromFloatInts = 8;
    private const int FromFloatLongs = 2;

    private static int FloatToInt(int op, float f)
    {
        switch (op)
        {
            case 0: return (int)f;                 // saturating, NaN -> 0
            case 1: return (int)(uint)f;           // saturating to [0, uint.MaxValue]
            case 2: return (int)(short)(int)f;     // truncation of the saturated int
            case 3: return (int)(byte)(int)f;
            case 4: return (int)(sbyte)(int)f;
            case 5: return (int)(ushort)(int)f;
            case 6: return (int)MathF.Truncate(f) == (int)f ? 1 : 0;
            default: return f > 0 ? 1 : 0;         // bool from a comparison
        }
    }

    private static void FromFloatKernel(Index1D index, ArrayView<float> values, ArrayView<int> ints, ArrayView<long> longs, ArrayView<double> doubles)
    {
        float f = values[index];
        for (int op = 0; op < FromFloatInts; op++) ints[index * FromFloatInts + op] = FloatToInt(op, f);
        longs[index * FromFloatLongs] = (long)f;
        longs[index * FromFloatLongs + 1] = (long)(ulong)f;
        doubles[index] = f;
    }

    private static void ConversionsFromFloat(Accelerator accelerator)
    {
        int n = FloatValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<long>, ArrayView<double>>(FromFloatKernel);
        using var values = accelerator.Allocate1D(FloatValues);
        using var ints = accelerator.Allocate1D<int>(n * FromFloatInts);
        using var longs = accelerator.Allocate1D<long>(n * FromFloatLongs);
        using var doubles = accelerator.Allocate1D<double>(n);
        kernel(n, values.View, ints.View, longs.View, doubles.View);

        var expectedInts = new int[n * FromFloatInts];
        var expectedLongs = new long[n * FromFloatLongs];
        var expectedDoubles = new double[n];
        for (int i = 0; i < n; i++)
        {
            float f = FloatValues[i];
            for (int op = 0; op < FromFloatInts; op++) expectedInts[i * FromFloatInts + op] = FloatToInt(op, f);
            expectedLongs[i * FromFloatLongs] = (long)f;
            expectedLongs[i * FromFloatLongs + 1] = (long)(ulong)f;
            expectedDoubles[i] = f;
        }
        // The saturation rules spelled out (.NET 9+): NaN -> 0, 1e10 -> int.MaxValue, -1e10 -> int.MinValue.
        Check.Equal(0, (int)FloatValues[Array.IndexOf(FloatValues, float.NaN)], "host (int)NaN");
        Check.Equal(int.MaxValue, FloatToInt(0, 1e10f), "host (int)1e10f");
        Check.Equal(int.MinValue, FloatToInt(0, -1e10f), "host (int)-1e10f");

        Check.Equal<int>(expectedInts, ints.GetAsArray1D(), "float32 -> int32/uint32/int16/uint8/int8/uint16",
            i => $"op {i % FromFloatInts} of {Check.Format(FloatValues[i / FromFloatInts])}");
        Check.Equal<long>(expectedLongs, longs.GetAsArray1D(), "float32 -> int64/uint64",
            i => $"op {i % FromFloatLongs} of {Check.Format(FloatValues[i / FromFloatLongs])}");
        Check.Equal<double>(expectedDoubles, doubles.GetAsArray1D(), "float32 -> float64", i => Check.Format(FloatValues[i]));
    }

    private static void FromDoubleKernel(Index1D index, ArrayView<double> values, ArrayView<float> floats, ArrayView<int> ints, ArrayView<long> longs)
    {
        double d = values[index];
        floats[index] = (float)d;
        ints[index * 2] = (int)d;
        ints[index * 2 + 1] = (int)(uint)d;
        longs[index * 2] = (long)d;
        longs[index * 2 + 1] = (long)(ulong)d;
    }

    private static void ConversionsFromDouble(Accelerator accelerator)
    {
        int n = DoubleValues.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<int>, ArrayView<long>>(FromDoubleKernel);
        using var values = accelerator.Allocate1D(DoubleValues);
        using var floats = accelerator.Allocate1D<float>(n);
        using var ints = accelerator.Allocate1D<int>(n * 2);
        using var longs = accelerator.Allocate1D<long>(n * 2);
        kernel(n, values.View, floats.View, ints.View, longs.View);

        var expectedFloats = new float[n];
        var expectedInts = new int[n * 2];
        var expectedLongs = new long[n * 2];
        for (int i = 0; i < n; i++)
        {
            double d = DoubleValues[i];
            expectedFloats[i] = (float)d;
            expectedInts[i * 2] = (int)d;
            expectedInts[i * 2 + 1] = (int)(uint)d;
            expectedLongs[i * 2] = (long)d;
            expectedLongs[i * 2 + 1] = (long)(ulong)d;
        }
        Check.Equal<float>(expectedFloats, floats.GetAsArray1D(), "float64 -> float32 (round to nearest even)", i => Check.Format(DoubleValues[i]));
        Check.Equal<int>(expectedInts, ints.GetAsArray1D(), "float64 -> int32/uint32 (saturating)", i => $"op {i % 2} of {Check.Format(DoubleValues[i / 2])}");
        Check.Equal<long>(expectedLongs, longs.GetAsArray1D(), "float64 -> int64/uint64 (saturating)", i => $"op {i % 2} of {Check.Format(DoubleValues[i / 2])}");
    }

    private const int FromIntInts = 6;
    private const int FromIntFloats = 4;

    private static void FromIntegerKernel(Index1D index, ArrayView<long> values, ArrayView<int> ints, ArrayView<float> floats, ArrayView<double> doubles)
    {
        long l = values[index];
        int i = (int)l;
        int o = index * FromIntInts;
        ints[o] = i;                    // truncation to the low 32 bits
        ints[o + 1] = (byte)i;
        ints[o + 2] = (sbyte)i;
        ints[o + 3] = (short)i;
        ints[o + 4] = (ushort)i;
        ints[o + 5] = (int)(uint)(l >> 32);
        int p = index * FromIntFloats;
        floats[p] = i;                  // int -> float, round to nearest even
        floats[p + 1] = (uint)i;
        floats[p + 2] = l;
        floats[p + 3] = (ulong)l;
        doubles[index * 2] = l;
        doubles[index * 2 + 1] = (ulong)l;
    }

    private static void ConversionsFromIntegers(Accelerator accelerator)
    {
        long[] inputs = [.. LongValues, 16777217, 16777219, -16777217, 255, 256, 128, -129, 65535, 65536, 32768, -32769, 9007199254740993L];
        int n = inputs.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<int>, ArrayView<float>, ArrayView<double>>(FromIntegerKernel);
        using var values = accelerator.Allocate1D(inputs);
        using var ints = accelerator.Allocate1D<int>(n * FromIntInts);
        using var floats = accelerator.Allocate1D<float>(n * FromIntFloats);
        using var doubles = accelerator.Allocate1D<double>(n * 2);
        kernel(n, values.View, ints.View, floats.View, doubles.View);

        var expectedInts = new int[n * FromIntInts];
        var expectedFloats = new float[n * FromIntFloats];
        var expectedDoubles = new double[n * 2];
        for (int k = 0; k < n; k++)
        {
            long l = inputs[k];
            int i = (int)l;
            expectedInts[k * FromIntInts] = i;
            expectedInts[k * FromIntInts + 1] = (byte)i;
            expectedInts[k * FromIntInts + 2] = (sbyte)i;
            expectedInts[k * FromIntInts + 3] = (short)i;
            expectedInts[k * FromIntInts + 4] = (ushort)i;
            expectedInts[k * FromIntInts + 5] = (int)(uint)(l >> 32);
            expectedFloats[k * FromIntFloats] = i;
            expectedFloats[k * FromIntFloats + 1] = (uint)i;
            expectedFloats[k * FromIntFloats + 2] = l;
            expectedFloats[k * FromIntFloats + 3] = (ulong)l;
            expectedDoubles[k * 2] = l;
            expectedDoubles[k * 2 + 1] = (ulong)l;
        }
        Check.Equal<int>(expectedInts, ints.GetAsArray1D(), "int64 -> int32/uint8/int8/int16/uint16/high word",
            i => $"op {i % FromIntInts} of {inputs[i / FromIntInts]}");
        Check.Equal<float>(expectedFloats, floats.GetAsArray1D(), "int32/uint32/int64/uint64 -> float32",
            i => $"op {i % FromIntFloats} of {inputs[i / FromIntFloats]}");
        Check.Equal<double>(expectedDoubles, doubles.GetAsArray1D(), "int64/uint64 -> float64", i => $"op {i % 2} of {inputs[i / 2]}");
    }

    private static string DescribePair<T>(T[] values, int n, int ops, int i)
    {
        int pair = i / ops;
        return $"op {i % ops} of ({Check.Format(values[pair / n])}, {Check.Format(values[pair % n])})";
    }
}
