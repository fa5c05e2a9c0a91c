namespace GpuDeconv.Compute.Conformance;

// Math/MathF/XMath on devices against .NET on the host. The ulp bound of each function is the
// looser of the OpenCL 1.2 full-profile bound (spec table 7.1/7.2) and CUDA's (programming
// guide, appendix "Mathematical Functions"), plus 1 ulp for the host's own libm error.
// Rounding, min/max, abs and sqrt of doubles are exact. Inputs avoid denormal results, which
// devices may flush to zero.
internal static class MathCases
{
    // Name and ulp bound of each unary op, in the order of Unary32/Unary64.
    private static readonly (string Name, int Ulps32, int Ulps64)[] UnaryOps =
    [
        ("Sin", 5, 5), ("Cos", 5, 5), ("Tan", 6, 6), ("Exp", 4, 4), ("Log", 4, 4), ("Log2", 4, 4), ("Log10", 4, 4),
        ("Sqrt", 4, 0), ("Tanh", 6, 6), ("Atan", 6, 6), ("Asin", 5, 5), ("Acos", 5, 5), ("Sinh", 5, 5), ("Cosh", 5, 5),
        ("Floor", 0, 0), ("Ceiling", 0, 0), ("Round", 0, 0), ("Truncate", 0, 0), ("Abs", 0, 0),
    ];

    private static readonly (string Name, int Ulps32, int Ulps64)[] BinaryOps =
    [
        ("Pow", 17, 17), ("Atan2", 7, 7), ("Max", 0, 0), ("Min", 0, 0), ("MathF.Max", 0, 0), ("MathF.Min", 0, 0),
    ];

    private static readonly float[] BinaryInputs = [0f, -0f, 1f, -1f, 2f, -2f, 0.5f, 3f, -8f, 1f / 3f, 10f, 1e-3f, 7.5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("math.unary-float32", "math", UnaryFloat);
        yield return new("math.unary-float64", "math", UnaryDouble);
        yield return new("math.binary-float32", "math", BinaryFloat);
        yield return new("math.binary-float64", "math", BinaryDouble);
        yield return new("math.round-half-even", "math", RoundHalfEven);
        yield return new("math.minmax-nan-signed-zero", "math", MinMaxEdges);
        yield return new("math.xmath-rsqrt-rcp", "math", XMathApprox);
        yield return new("math.integer-minmax-abs", "math", IntegerMath);
    }

    private static float Unary32(int op, float x)
    {
        switch (op)
        {
            case 0: return MathF.Sin(x);
            case 1: return MathF.Cos(x);
            case 2: return MathF.Tan(x);
            case 3: return MathF.Exp(x);
            case 4: return MathF.Log(x);
            case 5: return MathF.Log2(x);
            case 6: return MathF.Log10(x);
            case 7: return MathF.Sqrt(x);
            case 8: return MathF.Tanh(x);
            case 9: return MathF.Atan(x);
            case 10: return MathF.Asin(x);
            case 11: return MathF.Acos(x);
            case 12: return MathF.Sinh(x);
            case 13: return MathF.Cosh(x);
            case 14: return MathF.Floor(x);
            case 15: return MathF.Ceiling(x);
            case 16: return MathF.Round(x);
            case 17: return MathF.Truncate(x);
            default: return MathF.Abs(x);
        }
    }

    private static double Unary64(int op, double x)
    {
        switch (op)
        {
            case 0: return Math.Sin(x);
            case 1: return Math.Cos(x);
            case 2: return Math.Tan(x);
            case 3: return Math.Exp(x);
            case 4: return Math.Log(x);
            case 5: return Math.Log2(x);
            case 6: return Math.Log10(x);
            case 7: return Math.Sqrt(x);
            case 8: return Math.Tanh(x);
            case 9: return Math.Atan(x);
            case 10: return Math.Asin(x);
            case 11: return Math.Acos(x);
            case 12: return Math.Sinh(x);
            case 13: return Math.Cosh(x);
            case 14: return Math.Floor(x);
            case 15: return Math.Ceiling(x);
            case 16: return Math.Round(x);
            case 17: return Math.Truncate(x);
            default: return Math.Abs(x);
        }
    }

    private static float Binary32(int op, float a, float b)
    {
        switch (op)
        {
            case 0: return MathF.Pow(a, b);
            case 1: return MathF.Atan2(a, b);
            case 2: return Math.Max(a, b);
            case 3: return Math.Min(a, b);
            case 4: return MathF.Max(a, b);
            default: return MathF.Min(a, b);
        }
    }

    private static double Binary64(int op, double a, double b)
    {
        switch (op)
        {
            case 0: return Math.Pow(a, b);
            case 1: return Math.Atan2(a, b);
            case 2: return Math.Max(a, b);
            case 3: return Math.Min(a, b);
            case 4: return Math.Max(b, a);
            default: return Math.Min(b, a);
        }
    }

    private static void Unary32Kernel(Index1D index, ArrayView<float> x, ArrayView<float> results, int opCount)
    {
        float v = x[index];
        for (int op = 0; op < opCount; op++) results[index * opCount + op] = Unary32(op, v);
    }

    private static void Unary64Kernel(Index1D index, ArrayView<double> x, ArrayView<double> results, int opCount)
    {
        double v = x[index];
        for (int op = 0; op < opCount; op++) results[index * opCount + op] = Unary64(op, v);
    }

    private static void Binary32Kernel(Index1D index, ArrayView<float> x, ArrayView<float> results, int opCount)
    {
        int n = x.IntLength;
        float a = x[index / n], b = x[index % n];
        for (int op = 0; op < opCount; op++) results[index * opCount + op] = Binary32(op, a, b);
    }

    private static void Binary64Kernel(Index1D index, ArrayView<double> x, ArrayView<double> results, int opCount)
    {
        int n = x.IntLength;
        double a = x[index / n], b = x[index % n];
        for (int op = 0; op < opCount; op++) results[index * opCount + op] = Binary64(op, a, b);
    }

    // Specials plus a fixed pseudo-random spread over [-50, 50].
    private static float[] UnaryInputs()
    {
        var values = new List<float> { 0f, -0f, 1f, -1f, 0.5f, -0.5f, 2f, 1.5707964f, 3.1415927f, 10f, -10f, 1e-20f, 80f, -80f, 0.999f, -0.25f, float.PositiveInfinity, float.NegativeInfinity, float.NaN };
        var random = new Random(1234);
        for (int i = 0; i < 64; i++) values.Add((float)(random.NextDouble() * 100 - 50));
        return [.. values];
    }

    private static void UnaryFloat(Accelerator accelerator)
    {
        float[] inputs = UnaryInputs();
        int ops = UnaryOps.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Unary32Kernel);
        using var x = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<float>(inputs.Length * ops);
        kernel(inputs.Length, x.View, results.View, ops);
        float[] actual = results.GetAsArray1D();
        var failures = new List<string>();
        for (int op = 0; op < ops; op++)
        {
            var expected = new float[inputs.Length];
            var got = new float[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                expected[i] = Unary32(op, inputs[i]);
                got[i] = actual[i * ops + op];
            }
            Collect(failures, () => Check.Ulps(expected, got, UnaryOps[op].Ulps32, $"MathF.{UnaryOps[op].Name}", i => $"x={Check.Format(inputs[i])}"));
        }
        ThrowAll(failures);
    }

    private static void UnaryDouble(Accelerator accelerator)
    {
        double[] inputs = Array.ConvertAll(UnaryInputs(), f => (double)f);
        int ops = UnaryOps.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int>(Unary64Kernel);
        using var x = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<double>(inputs.Length * ops);
        kernel(inputs.Length, x.View, results.View, ops);
        double[] actual = results.GetAsArray1D();
        var failures = new List<string>();
        for (int op = 0; op < ops; op++)
        {
            var expected = new double[inputs.Length];
            var got = new double[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                expected[i] = Unary64(op, inputs[i]);
                got[i] = actual[i * ops + op];
            }
            Collect(failures, () => Check.Ulps(expected, got, UnaryOps[op].Ulps64, $"Math.{UnaryOps[op].Name}(double)", i => $"x={Check.Format(inputs[i])}"));
        }
        ThrowAll(failures);
    }

    private static void BinaryFloat(Accelerator accelerator)
    {
        float[] inputs = BinaryInputs;
        int n = inputs.Length, ops = BinaryOps.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(Binary32Kernel);
        using var x = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<float>(n * n * ops);
        kernel(n * n, x.View, results.View, ops);
        float[] actual = results.GetAsArray1D();
        var failures = new List<string>();
        for (int op = 0; op < ops; op++)
        {
            var expected = new float[n * n];
            var got = new float[n * n];
            for (int i = 0; i < n * n; i++)
            {
                expected[i] = Binary32(op, inputs[i / n], inputs[i % n]);
                got[i] = actual[i * ops + op];
            }
            string name = BinaryOps[op].Name;
            if (BinaryOps[op].Ulps32 == 0)
                Collect(failures, () => Check.Equal<float>(expected, got, $"{name}(float) exact", i => $"({Check.Format(inputs[i / n])}, {Check.Format(inputs[i % n])})"));
            else
                Collect(failures, () => Check.Ulps(expected, got, BinaryOps[op].Ulps32, $"MathF.{name}", i => $"({Check.Format(inputs[i / n])}, {Check.Format(inputs[i % n])})"));
        }
        ThrowAll(failures);
    }

    private static void BinaryDouble(Accelerator accelerator)
    {
        double[] inputs = Array.ConvertAll(BinaryInputs, f => (double)f);
        int n = inputs.Length, ops = BinaryOps.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int>(Binary64Kernel);
        using var x = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<double>(n * n * ops);
        kernel(n * n, x.View, results.View, ops);
        double[] actual = results.GetAsArray1D();
        var failures = new List<string>();
        for (int op = 0; op < ops; op++)
        {
            var expected = new double[n * n];
            var got = new double[n * n];
            for (int i = 0; i < n * n; i++)
            {
                expected[i] = Binary64(op, inputs[i / n], inputs[i % n]);
                got[i] = actual[i * ops + op];
            }
            string name = BinaryOps[op].Name.Replace("MathF.", "", StringComparison.Ordinal) + "(double" + (op >= 4 ? ", swapped)" : ")");
            if (BinaryOps[op].Ulps64 == 0)
                Collect(failures, () => Check.Equal<double>(expected, got, $"Math.{name} exact", i => $"({Check.Format(inputs[i / n])}, {Check.Format(inputs[i % n])})"));
            else
                Collect(failures, () => Check.Ulps(expected, got, BinaryOps[op].Ulps64, $"Math.{name}", i => $"({Check.Format(inputs[i / n])}, {Check.Format(inputs[i % n])})"));
        }
        ThrowAll(failures);
    }

    private static void RoundKernel(Index1D index, ArrayView<float> x, ArrayView<float> f, ArrayView<double> d)
    {
        f[index] = MathF.Round(x[index]);
        d[index] = Math.Round((double)x[index]);
    }

    private static void RoundHalfEven(Accelerator accelerator)
    {
        float[] inputs = [0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 2.5000002f, -3.7f, 4194304.5f, 8388607.5f, 8388609f, 0f, -0f];
        float[] expectedF = [0f, 2f, 2f, 4f, -0f, -2f, -2f, 0f, 3f, -4f, 4194304f, 8388608f, 8388609f, 0f, -0f];
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>>(RoundKernel);
        using var x = accelerator.Allocate1D(inputs);
        using var f = accelerator.Allocate1D<float>(inputs.Length);
        using var d = accelerator.Allocate1D<double>(inputs.Length);
        kernel(inputs.Length, x.View, f.View, d.View);
        Check.Equal<float>(expectedF, Array.ConvertAll(inputs, MathF.Round), "host MathF.Round table");
        Check.Equal<float>(expectedF, f.GetAsArray1D(), "MathF.Round (half to even)", i => Check.Format(inputs[i]));
        Check.Equal<double>(Array.ConvertAll(inputs, v => Math.Round((double)v)), d.GetAsArray1D(), "Math.Round(double) (half to even)", i => Check.Format(inputs[i]));
    }

    private static void MinMaxKernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> results)
    {
        float x = a[index], y = b[index];
        results[index * 4] = Math.Max(x, y);
        results[index * 4 + 1] = Math.Min(x, y);
        results[index * 4 + 2] = (float)Math.Max((double)x, y);
        results[index * 4 + 3] = (float)Math.Min((double)x, y);
    }

    private static void MinMaxEdges(Accelerator accelerator)
    {
        float nan = float.NaN;
        float[] a = [-0f, 0f, nan, 1f, nan, -1f, float.NegativeInfinity, -0f];
        float[] b = [0f, -0f, 1f, nan, nan, -0f, -0f, -0f];
        // .NET: NaN propagates from either side; -0 orders below +0.
        float[] expected =
        [
            0f, -0f, 0f, -0f,
            0f, -0f, 0f, -0f,
            nan, nan, nan, nan,
            nan, nan, nan, nan,
            nan, nan, nan, nan,
            -0f, -1f, -0f, -1f,
            -0f, float.NegativeInfinity, -0f, float.NegativeInfinity,
            -0f, -0f, -0f, -0f,
        ];
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MinMaxKernel);
        using var av = accelerator.Allocate1D(a);
        using var bv = accelerator.Allocate1D(b);
        using var results = accelerator.Allocate1D<float>(a.Length * 4);
        kernel(a.Length, av.View, bv.View, results.View);
        string[] names = ["Max(float)", "Min(float)", "Max(double)", "Min(double)"];
        Check.Equal<float>(expected, results.GetAsArray1D(), "Math.Max/Min with NaN and signed zeros",
            i => $"{names[i % 4]}({Check.Format(a[i / 4])}, {Check.Format(b[i / 4])})");
    }

    private static void XMathKernel(Index1D index, ArrayView<float> x, ArrayView<float> rsqrt, ArrayView<float> rcp)
    {
        rsqrt[index] = XMath.Rsqrt(x[index]);
        rcp[index] = XMath.Rcp(x[index]);
    }

    private static void XMathApprox(Accelerator accelerator)
    {
        var random = new Random(42);
        float[] inputs = new float[100];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)Math.Exp(random.NextDouble() * 40 - 20);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(XMathKernel);
        using var x = accelerator.Allocate1D(inputs);
        using var rsqrt = accelerator.Allocate1D<float>(inputs.Length);
        using var rcp = accelerator.Allocate1D<float>(inputs.Length);
        kernel(inputs.Length, x.View, rsqrt.View, rcp.View);
        // Hardware reciprocal approximations: 2 ulp on CUDA/OpenCL; 1e-5 relative is generous but catches a wrong function.
        Check.Close(Array.ConvertAll(inputs, v => (float)(1 / Math.Sqrt(v))), rsqrt.GetAsArray1D(), 0, 1e-5, "XMath.Rsqrt", i => $"x={inputs[i]}");
        Check.Close(Array.ConvertAll(inputs, v => (float)(1 / (double)v)), rcp.GetAsArray1D(), 0, 1e-5, "XMath.Rcp", i => $"x={inputs[i]}");
    }

    private static void IntegerMathKernel(Index1D index, ArrayView<int> a, ArrayView<int> results)
    {
        int n = a.IntLength;
        int x = a[index / n], y = a[index % n];
        int o = index * 5;
        results[o] = Math.Max(x, y);
        results[o + 1] = Math.Min(x, y);
        results[o + 2] = x == int.MinValue ? 0 : Math.Abs(x); // Math.Abs(int.MinValue) throws in .NET
        results[o + 3] = (int)Math.Max((uint)x, (uint)y);
        results[o + 4] = (int)Math.Min((long)x * 3, (long)y);
    }

    private static void IntegerMath(Accelerator accelerator)
    {
        int[] inputs = [0, 1, -1, 5, -5, int.MaxValue, int.MinValue, 1000];
        int n = inputs.Length;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(IntegerMathKernel);
        using var a = accelerator.Allocate1D(inputs);
        using var results = accelerator.Allocate1D<int>(n * n * 5);
        kernel(n * n, a.View, results.View);
        var expected = new int[n * n * 5];
        for (int i = 0; i < n * n; i++)
        {
            int x = inputs[i / n], y = inputs[i % n];
            expected[i * 5] = Math.Max(x, y);
            expected[i * 5 + 1] = Math.Min(x, y);
            expected[i * 5 + 2] = x == int.MinValue ? 0 : Math.Abs(x);
            expected[i * 5 + 3] = (int)Math.Max((uint)x, (uint)y);
            expected[i * 5 + 4] = (int)Math.Min((long)x * 3, (long)y);
        }
        Check.Equal<int>(expected, results.GetAsArray1D(), "Math.Max/Min/Abs on integers", i => $"op {i % 5} of ({inputs[i / 5 / n]}, {inputs[i / 5 % n]})");
    }

    private static void Collect(List<string> failures, Action check)
    {
        try
        {
            check();
        }
        catch (ConformanceFailure failure)
        {
            failures.Add(failure.Message);
        }
    }

    private static void ThrowAll(List<string> failures)
    {
        if (failures.Count > 0) throw new ConformanceFailure(string.Join("\n", failures));
    }
}
