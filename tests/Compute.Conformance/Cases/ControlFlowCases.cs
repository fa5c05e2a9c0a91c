namespace GpuDeconv.Compute.Conformance;

/// <summary>How <see cref="ControlFlowCases"/> combines two numbers; passed to kernels as a parameter.</summary>
public enum CombineMode
{
    Add,
    Multiply,
    Max = 7,
    Negate,
}

/// <summary>A kernel parameter struct with mixed field sizes (checks the C struct layout and padding).</summary>
public struct AffineParams
{
    public byte Flag;
    public int Scale;
    public double Offset;
    public float Bias;

    public AffineParams(int scale, double offset, float bias)
    {
        Flag = 1;
        Scale = scale;
        Offset = offset;
        Bias = bias;
    }
}

/// <summary>A kernel-local accumulator with a constructor and field updates.</summary>
/// <remarks>Kernels cannot call instance methods (generator rule GD0009), so the updates are static functions.</remarks>
public struct RunningStats
{
    public int Count;
    public int Sum;
    public int Max;

    public RunningStats(int first)
    {
        Count = 1;
        Sum = first;
        Max = first;
    }

    public static RunningStats Add(RunningStats stats, int value)
    {
        stats.Count++;
        stats.Sum += value;
        if (value > stats.Max) stats.Max = value;
        return stats;
    }

    public static int Mean(RunningStats stats) => stats.Count == 0 ? 0 : stats.Sum / stats.Count;
}

// Loops, branches, switch, ?:, structs, enums, constants and tables. Every kernel body is a
// helper that the host reference calls too, so the C translation must agree with .NET.
internal static class ControlFlowCases
{
    private const int Limit = 50;
    private const float Half = 0.5f;
    private static readonly int[] Primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    private static readonly float[] Weights = [0.25f, -1.5f, 3.0f, 1e-3f, -0f];
    private static readonly double[] DoubleTable = [1.0 / 3.0, Math.PI, -2.5e-300];

    private static readonly int[] Inputs = [-20, -7, -1, 0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 27, 31, 64, 97, 100, 255, 1000, 12345, int.MaxValue, int.MinValue];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("control.loops", "control", Loops);
        yield return new("control.early-return", "control", EarlyReturn);
        yield return new("control.switch", "control", Switches);
        yield return new("control.structs", "control", Structs);
        yield return new("control.struct-static-updates", "control", StructMethods);
        yield return new("control.enums", "control", Enums);
        yield return new("control.tables", "control", Tables);
    }

    // ---- loops ----

    private static int LoopBody(int n)
    {
        int m = n & 1023;
        // for with continue and break
        int sum = 0;
        for (int i = 0; i < m; i++)
        {
            if (i % 3 == 0) continue;
            if (i > Limit) break;
            sum += i;
        }
        // while: Collatz steps, bounded
        int steps = 0;
        long c = m + 1;
        while (c != 1 && steps < 500)
        {
            c = (c & 1) == 0 ? c / 2 : 3 * c + 1;
            steps++;
        }
        // do-while runs at least once: digit count (0 has one digit)
        int digits = 0;
        uint u = (uint)n;
        do
        {
            digits++;
            u /= 10;
        }
        while (u != 0);
        // nested loops with a labelled-free early exit through a flag
        int pairs = 0;
        bool done = false;
        for (int a = 0; a < 8 && !done; a++)
        {
            for (int b = a; b < 8; b++)
            {
                if (a * b > (m & 31)) { done = true; break; }
                pairs++;
            }
        }
        return sum * 1000003 + steps * 1009 + digits * 101 + pairs;
    }

    private static void LoopKernel(Index1D index, ArrayView<int> input, ArrayView<int> output) =>
        output[index] = LoopBody(input[index]);

    private static void Loops(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(LoopKernel);
        RunIntMap(accelerator, (n, i, o) => kernel(n, i, o), LoopBody, "loops");
    }

    // ---- early return in an implicit kernel: ends this index only ----

    private static void EarlyReturnKernel(Index1D index, ArrayView<int> input, ArrayView<int> output)
    {
        int n = input[index];
        if (n < 0)
        {
            output[index] = -1;
            return;
        }
        if (n == 0) return; // leaves the zero-initialised output untouched
        int r = n;
        for (int i = 0; i < 4; i++)
        {
            if (r > 100) { output[index] = r; return; }
            r *= 3;
        }
        output[index] = -r;
    }

    private static int EarlyReturnReference(int n)
    {
        if (n < 0) return -1;
        if (n == 0) return 0;
        int r = n;
        for (int i = 0; i < 4; i++)
        {
            if (r > 100) return r;
            r *= 3;
        }
        return -r;
    }

    private static void EarlyReturn(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(EarlyReturnKernel);
        RunIntMap(accelerator, (n, i, o) => kernel(n, i, o), EarlyReturnReference, "early return");
    }

    // ---- switch, default, grouped labels, ?: ----

    private static int Classify(int n)
    {
        int r;
        switch (n % 7)
        {
            case 0:
                r = 10;
                break;
            case 1:
            case 2:
                r = 20 + n % 7;
                break;
            case -1:
            case -2:
            case -3:
                r = -30;
                break;
            case 5:
                return 55;
            default:
                r = 99;
                break;
        }
        int sign = n > 0 ? 1 : n < 0 ? -1 : 0;
        bool even = (n & 1) == 0;
        return r * 10 + (even ? sign : 2 * sign) + (n == int.MinValue ? 7 : 0);
    }

    private static void SwitchKernel(Index1D index, ArrayView<int> input, ArrayView<int> output) =>
        output[index] = Classify(input[index]);

    private static void Switches(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(SwitchKernel);
        RunIntMap(accelerator, (n, i, o) => kernel(n, i, o), Classify, "switch");
    }

    // ---- structs as parameters and locals ----

    private static AffineParams Twice(AffineParams p)
    {
        var q = p;
        q.Scale *= 2;
        q.Offset += q.Offset;
        return q;
    }

    private static double Affine(int n, AffineParams p, bool negate)
    {
        var local = new AffineParams(p.Scale + 1, p.Offset, p.Bias);
        local.Bias -= 1f;
        var doubled = Twice(local);
        double v = n * (double)doubled.Scale + doubled.Offset + doubled.Bias + p.Flag + local.Flag;
        return negate ? -v : v;
    }

    private static void StructKernel(Index1D index, ArrayView<int> input, ArrayView<double> output, AffineParams p, bool negate) =>
        output[index] = Affine(input[index], p, negate);

    private static void Structs(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<double>, AffineParams, bool>(StructKernel);
        var p = new AffineParams(3, 0.125, 2.5f) { Flag = 4 };
        using var input = accelerator.Allocate1D(Inputs);
        using var output = accelerator.Allocate1D<double>(Inputs.Length);
        foreach (bool negate in new[] { false, true })
        {
            kernel(Inputs.Length, input.View, output.View, p, negate);
            double[] expected = Array.ConvertAll(Inputs, n => Affine(n, p, negate));
            Check.Equal<double>(expected, output.GetAsArray1D(), $"struct parameter and locals (negate={negate})", i => $"n={Inputs[i]}");
        }
    }

    private static int StatsOf(int n)
    {
        var stats = new RunningStats(n & 255);
        for (int i = 1; i < 6; i++) stats = RunningStats.Add(stats, (n >> i) & 255);
        var copy = stats;     // value semantics: later updates must not reach the copy
        stats.Count += 10;
        stats = RunningStats.Add(stats, 1000);
        return RunningStats.Mean(copy) * 100000 + copy.Max * 10 + stats.Count;
    }

    private static void StructMethodKernel(Index1D index, ArrayView<int> input, ArrayView<int> output) =>
        output[index] = StatsOf(input[index]);

    private static void StructMethods(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(StructMethodKernel);
        RunIntMap(accelerator, (n, i, o) => kernel(n, i, o), StatsOf, "struct constructor, field updates and static update functions");
    }

    // ---- enums ----

    private static int Combine(CombineMode mode, int a, int b)
    {
        switch (mode)
        {
            case CombineMode.Add: return a + b;
            case CombineMode.Multiply: return a * b;
            case CombineMode.Max: return a > b ? a : b;
            default: return -a;
        }
    }

    private static void EnumKernel(Index1D index, ArrayView<int> input, ArrayView<int> output, CombineMode mode)
    {
        var local = mode == CombineMode.Negate ? CombineMode.Add : mode;
        output[index] = Combine(mode, input[index], 3) * 10 + (int)local;
    }

    private static void Enums(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, CombineMode>(EnumKernel);
        using var input = accelerator.Allocate1D(Inputs);
        using var output = accelerator.Allocate1D<int>(Inputs.Length);
        foreach (var mode in new[] { CombineMode.Add, CombineMode.Multiply, CombineMode.Max, CombineMode.Negate })
        {
            kernel(Inputs.Length, input.View, output.View, mode);
            var local = mode == CombineMode.Negate ? CombineMode.Add : mode;
            int[] expected = Array.ConvertAll(Inputs, n => Combine(mode, n, 3) * 10 + (int)local);
            Check.Equal<int>(expected, output.GetAsArray1D(), $"enum parameter {mode}", i => $"n={Inputs[i]}");
        }
    }

    // ---- const and static readonly tables ----

    private static float TableValue(int n)
    {
        int m = n & 0xFFFF;
        int prime = Primes[m % Primes.Length];
        float w = Weights[m % Weights.Length];
        double d = DoubleTable[m % DoubleTable.Length];
        return prime * w + Half * Primes.Length + (float)d;
    }

    private static void TableKernel(Index1D index, ArrayView<int> input, ArrayView<float> output) =>
        output[index] = TableValue(input[index]);

    private static void Tables(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>>(TableKernel);
        using var input = accelerator.Allocate1D(Inputs);
        using var output = accelerator.Allocate1D<float>(Inputs.Length);
        kernel(Inputs.Length, input.View, output.View);
        float[] expected = Array.ConvertAll(Inputs, TableValue);
        Check.Equal<float>(expected, output.GetAsArray1D(), "static readonly tables and constants", i => $"n={Inputs[i]}");
    }

    private static void RunIntMap(Accelerator accelerator, Action<Index1D, ArrayView<int>, ArrayView<int>> launch, Func<int, int> reference, string what)
    {
        using var input = accelerator.Allocate1D(Inputs);
        using var output = accelerator.Allocate1D<int>(Inputs.Length);
        output.MemSetToZero();
        launch(Inputs.Length, input.View, output.View);
        int[] expected = Array.ConvertAll(Inputs, n => reference(n));
        Check.Equal<int>(expected, output.GetAsArray1D(), what, i => $"n={Inputs[i]}");
    }
}
