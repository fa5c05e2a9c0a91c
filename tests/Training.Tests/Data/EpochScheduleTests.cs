using Xunit;

namespace GpuDeconv.Training.Tests;

public class EpochScheduleTests
{
    [Theory]
    [InlineData(PartialBatch.Drop, 390)]
    [InlineData(PartialBatch.Keep, 391)]
    [InlineData(PartialBatch.PadWrap, 391)]
    public void StepsPerEpochFollowThePolicy(PartialBatch policy, int steps)
    {
        Assert.Equal(steps, new EpochSchedule(50_000, 128, policy).StepsPerEpoch);
    }

    [Fact]
    public void StepsMapToEpochsAndBack()
    {
        var schedule = new EpochSchedule(50_000, 128, PartialBatch.Drop);

        Assert.Equal(3900, schedule.StepsForEpochs(10));
        Assert.Equal(0, schedule.EpochOf(389));
        Assert.Equal(1, schedule.EpochOf(390));
        Assert.Equal(0, schedule.StepInEpoch(390));
        Assert.Equal(5, schedule.StepInEpoch(395));
        Assert.Equal(38.46, schedule.EpochsAfter(15_000), 2);  // the tutorial's 15,000 steps
    }

    [Fact]
    public void DroppingWithoutOneFullBatchIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => new EpochSchedule(100, 128, PartialBatch.Drop));
        Assert.Contains("100 examples make no full batch of 128", e.Message);
        Assert.Equal(1, new EpochSchedule(100, 128, PartialBatch.Keep).StepsPerEpoch);
    }

    [Fact]
    public void NegativeStepsAreRejected()
    {
        var schedule = new EpochSchedule(10, 3, PartialBatch.Keep);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.EpochOf(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpochSchedule(0, 3, PartialBatch.Keep));
    }
}
