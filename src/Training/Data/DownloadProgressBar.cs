using System.Globalization;

namespace GpuDeconv.Training;

/// <summary>
/// A text progress bar for downloads: <c>[#########...........]  45% 73.2 / 162.6 MB</c>, redrawn in place with a
/// carriage return on a terminal (or written as one line per 10% when the output is redirected, so logs stay short).
/// </summary>
/// <remarks>Pass it to <see cref="Cifar10.EnsureDownloadedAsync"/>, as the sample trainer's <c>train --dataset auto</c> does.</remarks>
public sealed class DownloadProgressBar(TextWriter output, string label, bool inPlace) : IProgress<DownloadProgress>
{
    private const int Width = 30;
    private readonly Lock _lock = new();
    private int _lastTenth = -1;
    private string _lastLine = string.Empty;

    /// <summary>A bar on standard error, redrawn in place unless standard error is redirected.</summary>
    public DownloadProgressBar(string label) : this(Console.Error, label, !Console.IsErrorRedirected)
    {
    }

    /// <inheritdoc/>
    public void Report(DownloadProgress value)
    {
        string line = Format(label, value);
        lock (_lock)
        {
            if (line == _lastLine) return;
            _lastLine = line;
            if (inPlace)
            {
                output.Write('\r' + line);
                if (value.TotalBytes is { } total && value.BytesReceived >= total) output.WriteLine();
                output.Flush();
                return;
            }
            int tenth = value.Fraction is { } fraction ? (int)(fraction * 10) : (int)(value.BytesReceived >> 24);   // unknown total: every 16 MiB
            if (tenth == _lastTenth) return;
            _lastTenth = tenth;
            output.WriteLine(line);
        }
    }

    /// <summary>The bar for one progress report.</summary>
    public static string Format(string label, DownloadProgress value)
    {
        string received = Megabytes(value.BytesReceived);
        if (value.Fraction is not { } fraction || value.TotalBytes is not { } total)
            return string.Create(CultureInfo.InvariantCulture, $"{label} {received} MB");
        fraction = Math.Clamp(fraction, 0, 1);
        int filled = (int)Math.Round(fraction * Width);
        return string.Create(CultureInfo.InvariantCulture,
            $"{label} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction * 100,3:F0}% {received} / {Megabytes(total)} MB");
    }

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture);
}
