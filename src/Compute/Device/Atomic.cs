namespace GpuDeconv.Compute;

/// <summary>Atomic read-modify-write operations on global or shared memory (ILGPU's <c>Atomic</c>); each returns the value before the operation.</summary>
/// <remarks>Float and double operations are compare-and-swap loops on the bit pattern; Min and Max follow <see cref="Math.Min(float, float)"/> (NaN wins, -0 &lt; +0).</remarks>
public static class Atomic
{
    // ---- Add ----

    public static int Add(ref int target, int value) => Interlocked.Add(ref target, value) - value;

    public static uint Add(ref uint target, uint value) => Interlocked.Add(ref target, value) - value;

    public static long Add(ref long target, long value) => Interlocked.Add(ref target, value) - value;

    public static ulong Add(ref ulong target, ulong value) => Interlocked.Add(ref target, value) - value;

    public static float Add(ref float target, float value)
    {
        float old = Volatile.Read(ref target);
        while (true)
        {
            float seen = Interlocked.CompareExchange(ref target, old + value, old);
            if (BitEquals(seen, old)) return old;
            old = seen;
        }
    }

    public static double Add(ref double target, double value)
    {
        double old = Volatile.Read(ref target);
        while (true)
        {
            double seen = Interlocked.CompareExchange(ref target, old + value, old);
            if (BitEquals(seen, old)) return old;
            old = seen;
        }
    }

    // ---- Min / Max ----

    public static int Min(ref int target, int value)
    {
        int old = Volatile.Read(ref target);
        while (value < old)
        {
            int seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static uint Min(ref uint target, uint value)
    {
        uint old = Volatile.Read(ref target);
        while (value < old)
        {
            uint seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static long Min(ref long target, long value)
    {
        long old = Volatile.Read(ref target);
        while (value < old)
        {
            long seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static ulong Min(ref ulong target, ulong value)
    {
        ulong old = Volatile.Read(ref target);
        while (value < old)
        {
            ulong seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static int Max(ref int target, int value)
    {
        int old = Volatile.Read(ref target);
        while (value > old)
        {
            int seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static uint Max(ref uint target, uint value)
    {
        uint old = Volatile.Read(ref target);
        while (value > old)
        {
            uint seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static long Max(ref long target, long value)
    {
        long old = Volatile.Read(ref target);
        while (value > old)
        {
            long seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static ulong Max(ref ulong target, ulong value)
    {
        ulong old = Volatile.Read(ref target);
        while (value > old)
        {
            ulong seen = Interlocked.CompareExchange(ref target, value, old);
            if (seen == old) break;
            old = seen;
        }
        return old;
    }

    public static float Min(ref float target, float value) => Update(ref target, value, static (a, b) => Math.Min(a, b));

    public static float Max(ref float target, float value) => Update(ref target, value, static (a, b) => Math.Max(a, b));

    public static double Min(ref double target, double value) => Update(ref target, value, static (a, b) => Math.Min(a, b));

    public static double Max(ref double target, double value) => Update(ref target, value, static (a, b) => Math.Max(a, b));

    // ---- bitwise ----

    public static int And(ref int target, int value) => Interlocked.And(ref target, value);

    public static uint And(ref uint target, uint value) => Interlocked.And(ref target, value);

    public static long And(ref long target, long value) => Interlocked.And(ref target, value);

    public static ulong And(ref ulong target, ulong value) => Interlocked.And(ref target, value);

    public static int Or(ref int target, int value) => Interlocked.Or(ref target, value);

    public static uint Or(ref uint target, uint value) => Interlocked.Or(ref target, value);

    public static long Or(ref long target, long value) => Interlocked.Or(ref target, value);

    public static ulong Or(ref ulong target, ulong value) => Interlocked.Or(ref target, value);

    public static int Xor(ref int target, int value)
    {
        int old = Volatile.Read(ref target);
        while (true)
        {
            int seen = Interlocked.CompareExchange(ref target, old ^ value, old);
            if (seen == old) return old;
            old = seen;
        }
    }

    public static uint Xor(ref uint target, uint value)
    {
        uint old = Volatile.Read(ref target);
        while (true)
        {
            uint seen = Interlocked.CompareExchange(ref target, old ^ value, old);
            if (seen == old) return old;
            old = seen;
        }
    }

    public static long Xor(ref long target, long value)
    {
        long old = Volatile.Read(ref target);
        while (true)
        {
            long seen = Interlocked.CompareExchange(ref target, old ^ value, old);
            if (seen == old) return old;
            old = seen;
        }
    }

    public static ulong Xor(ref ulong target, ulong value)
    {
        ulong old = Volatile.Read(ref target);
        while (true)
        {
            ulong seen = Interlocked.CompareExchange(ref target, old ^ value, old);
            if (seen == old) return old;
            old = seen;
        }
    }

    // ---- Exchange / CompareExchange (ILGPU order: target, compare, value) ----

    public static int Exchange(ref int target, int value) => Interlocked.Exchange(ref target, value);

    public static uint Exchange(ref uint target, uint value) => Interlocked.Exchange(ref target, value);

    public static long Exchange(ref long target, long value) => Interlocked.Exchange(ref target, value);

    public static ulong Exchange(ref ulong target, ulong value) => Interlocked.Exchange(ref target, value);

    public static float Exchange(ref float target, float value) => Interlocked.Exchange(ref target, value);

    public static double Exchange(ref double target, double value) => Interlocked.Exchange(ref target, value);

    /// <summary>Stores <paramref name="value"/> if the target equals <paramref name="compare"/>; returns the old value either way.</summary>
    public static int CompareExchange(ref int target, int compare, int value) => Interlocked.CompareExchange(ref target, value, compare);

    /// <inheritdoc cref="CompareExchange(ref int, int, int)"/>
    public static uint CompareExchange(ref uint target, uint compare, uint value) => Interlocked.CompareExchange(ref target, value, compare);

    /// <inheritdoc cref="CompareExchange(ref int, int, int)"/>
    public static long CompareExchange(ref long target, long compare, long value) => Interlocked.CompareExchange(ref target, value, compare);

    /// <inheritdoc cref="CompareExchange(ref int, int, int)"/>
    public static ulong CompareExchange(ref ulong target, ulong compare, ulong value) => Interlocked.CompareExchange(ref target, value, compare);

    /// <summary>Stores <paramref name="value"/> if the target's bits equal <paramref name="compare"/>'s; returns the old value either way.</summary>
    public static float CompareExchange(ref float target, float compare, float value) => Interlocked.CompareExchange(ref target, value, compare);

    /// <inheritdoc cref="CompareExchange(ref float, float, float)"/>
    public static double CompareExchange(ref double target, double compare, double value) => Interlocked.CompareExchange(ref target, value, compare);

    private static float Update(ref float target, float value, Func<float, float, float> combine)
    {
        float old = Volatile.Read(ref target);
        while (true)
        {
            float next = combine(old, value);
            if (BitEquals(next, old)) return old;
            float seen = Interlocked.CompareExchange(ref target, next, old);
            if (BitEquals(seen, old)) return old;
            old = seen;
        }
    }

    private static double Update(ref double target, double value, Func<double, double, double> combine)
    {
        double old = Volatile.Read(ref target);
        while (true)
        {
            double next = combine(old, value);
            if (BitEquals(next, old)) return old;
            double seen = Interlocked.CompareExchange(ref target, next, old);
            if (BitEquals(seen, old)) return old;
            old = seen;
        }
    }

    // Interlocked.CompareExchange on floats compares bits, so the loops must too (NaN != NaN, -0 == +0 otherwise).
    private static bool BitEquals(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    private static bool BitEquals(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
}
