using Xunit;

namespace GpuDeconv.Training.Tests;

public class CifarDistortionTests
{
    [Fact]
    public void SameSeedSameDraws()
    {
        Assert.Equal(CifarDistortion.Draw(42), CifarDistortion.Draw(42));
        Assert.NotEqual(CifarDistortion.Draw(42), CifarDistortion.Draw(43));
    }

    [Fact]
    public void DrawsCoverTheirRangesAndStayInside()
    {
        var draws = Enumerable.Range(0, 20_000).Select(i => CifarDistortion.Draw(Preprocessing.ExampleSeed(7, 0, i))).ToArray();

        Assert.Equal(Enumerable.Range(0, 9), draws.Select(d => d.Top).Distinct().Order());
        Assert.Equal(Enumerable.Range(0, 9), draws.Select(d => d.Left).Distinct().Order());
        double flips = draws.Count(d => d.Flip) / (double)draws.Length;
        Assert.InRange(flips, 0.48, 0.52);
        Assert.All(draws, d => Assert.InRange(d.BrightnessDelta, -63f, MathF.BitDecrement(63f)));
        Assert.All(draws, d => Assert.InRange(d.ContrastFactor, 0.2f, MathF.BitDecrement(1.8f)));
        Assert.True(draws.Min(d => d.BrightnessDelta) < -62 && draws.Max(d => d.BrightnessDelta) > 62);
        Assert.True(draws.Min(d => d.ContrastFactor) < 0.21f && draws.Max(d => d.ContrastFactor) > 1.79f);
        Assert.InRange(draws.Average(d => d.BrightnessDelta), -1.5, 1.5);  // uniform: mean 0, standard error 0.26
    }
}
