namespace GpuDeconv.Training;

/// <summary>How much of a download has arrived: <see cref="TotalBytes"/> is null when the server did not say.</summary>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes)
{
    /// <summary>The fraction received, 0..1, or null when the total is unknown.</summary>
    public double? Fraction => TotalBytes is > 0 and var total ? (double)BytesReceived / total : null;
}
