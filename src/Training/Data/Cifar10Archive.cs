namespace GpuDeconv.Training;

/// <summary>
/// Where <see cref="Cifar10.EnsureDownloadedAsync"/> fetches the CIFAR-10 binary archive and the MD5 it must have;
/// <see cref="Official"/> is the dataset authors' archive (another URL serves a mirror or a test server).
/// </summary>
public sealed record Cifar10Archive(Uri Url, string Md5)
{
    /// <summary>The archive on the CIFAR-10 page (https://www.cs.toronto.edu/~kriz/cifar.html), 170,052,171 bytes, with the MD5 published there.</summary>
    public static Cifar10Archive Official { get; } =
        new(new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "c32a1d4ab5d03f1284b67883e8d87530");

    /// <summary>How long to wait for the connection and the response headers before giving up (offline machines fail this fast).</summary>
    public TimeSpan FirstByteTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one read of the body may wait for data before the download counts as stalled.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
