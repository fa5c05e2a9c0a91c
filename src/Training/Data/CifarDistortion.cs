namespace GpuDeconv.Training;

/// <summary>
/// One example's random draws for <c>cifar10_input.distorted_inputs</c>: crop offsets uniform in 0..8, a flip with
/// p = 0.5, a brightness delta in [-63, 63) and a contrast factor in [0.2, 1.8).
/// </summary>
public readonly record struct CifarDistortion(int Top, int Left, bool Flip, float BrightnessDelta, float ContrastFactor)
{
    /// <summary>The largest crop offset: 32 - 24.</summary>
    public const int MaxOffset = Cifar10.Height - Preprocessing.CifarCrop;

    /// <summary>random_brightness's max_delta.</summary>
    public const float MaxBrightnessDelta = 63;

    /// <summary>random_contrast's lower bound.</summary>
    public const float MinContrast = 0.2f;

    /// <summary>random_contrast's upper bound (excluded).</summary>
    public const float MaxContrast = 1.8f;

    /// <summary>Draws the five values from a generator seeded with <paramref name="exampleSeed"/> (same seed, same draws).</summary>
    public static CifarDistortion Draw(ulong exampleSeed)
    {
        var random = new SplitMix(exampleSeed);
        int top = random.NextInt(MaxOffset + 1);
        int left = random.NextInt(MaxOffset + 1);
        bool flip = random.NextUnit() < 0.5;
        // u * (max - min) + min as TF's random_uniform, in double and rounded down so the upper bound stays excluded.
        float delta = RoundDown(random.NextUnit() * (2 * MaxBrightnessDelta) - MaxBrightnessDelta, MaxBrightnessDelta);
        float factor = RoundDown(random.NextUnit() * (MaxContrast - (double)MinContrast) + MinContrast, MaxContrast);
        return new CifarDistortion(top, left, flip, delta, factor);
    }

    private static float RoundDown(double value, float bound)
    {
        float f = (float)value;
        return f >= bound ? MathF.BitDecrement(bound) : f;
    }
}
