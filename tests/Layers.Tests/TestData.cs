namespace GpuDeconv.Layers.Tests;

/// <summary>Seeded host data for the tests: uniform values, values kept away from a kink, and distinct values (no ties).</summary>
public static class TestData
{
    /// <summary><paramref name="count"/> values uniform in [low, high).</summary>
    public static float[] Uniform(int seed, long count, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = low + (high - low) * random.NextSingle();
        return values;
    }

    /// <summary>Values with |v| in [margin, 1] and a random sign: finite differences never step across 0 (ReLU's kink).</summary>
    public static float[] AwayFromZero(int seed, long count, float margin = 0.1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = (margin + (1 - margin) * random.NextSingle()) * (random.Next(2) == 0 ? -1 : 1);
        return values;
    }

    /// <summary>A shuffled ladder of values <paramref name="spacing"/> apart, centred on 0: no ties, so a max or argmax is stable under small steps.</summary>
    public static float[] Distinct(int seed, int count, float spacing = 0.05f)
    {
        var random = new Random(seed);
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return Array.ConvertAll(order, k => (k - count / 2) * spacing);
    }
}
