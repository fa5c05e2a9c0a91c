namespace GpuDeconv.Training;

/// <summary>What an epoch does with the examples left over when the data set is not a multiple of the batch size.</summary>
public enum PartialBatch
{
    /// <summary>Leaves them out of this epoch (every batch is full; shuffling gives them a turn in other epochs).</summary>
    Drop,

    /// <summary>Yields them as a smaller last batch.</summary>
    Keep,

    /// <summary>Fills the last batch up with the epoch's first examples again (every batch is full, every example is seen); <see cref="Batch.WrappedCount"/> says how many rows repeat.</summary>
    PadWrap,
}
