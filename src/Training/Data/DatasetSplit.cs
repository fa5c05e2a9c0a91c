namespace GpuDeconv.Training;

/// <summary>Which part of a data set to load: the training images or the held-out test images.</summary>
public enum DatasetSplit
{
    /// <summary>The training images (CIFAR-10 <c>data_batch_1..5.bin</c>, MNIST <c>train-*</c>).</summary>
    Train,

    /// <summary>The test images (CIFAR-10 <c>test_batch.bin</c>, MNIST <c>t10k-*</c>).</summary>
    Test,
}
