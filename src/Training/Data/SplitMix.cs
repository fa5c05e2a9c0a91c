namespace GpuDeconv.Training;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): a tiny generator
/// whose output is fixed by its definition, so seeded shuffles and distortions stay the same across .NET versions
/// (System.Random's seeded sequence is an implementation detail).
/// </summary>
internal struct SplitMix(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The SplitMix64 finaliser: a bijective mix of all 64 bits.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in 0..bound-1 (multiply-high; the bias is below bound / 2^64).</summary>
    public int NextInt(int bound) => (int)(((UInt128)Next() * (ulong)bound) >> 64);
}
