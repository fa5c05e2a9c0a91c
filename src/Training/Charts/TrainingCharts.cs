using System.Globalization;
using ScottPlot;

namespace GpuDeconv.Training;

/// <summary>The charts <see cref="TrainingCharts.Draw"/> wrote, the runs drawn in them and what was odd about their logs.</summary>
/// <param name="Files">The PNG files written (full paths), none when the runs logged neither loss nor accuracy.</param>
/// <param name="Runs">The run directories read, in the order they are drawn.</param>
/// <param name="Warnings">One sentence each: an event file that ends in a torn record, values that are not finite.</param>
public sealed record DrawnCharts(IReadOnlyList<string> Files, IReadOnlyList<string> Runs, IReadOnlyList<string> Warnings);

/// <summary>
/// Draws a run's loss and accuracy from its TensorBoard event files (<see cref="ScalarLog"/>) as PNG line charts,
/// <c>loss.png</c> and <c>accuracy.png</c> beside the logs, with ScottPlot. Sibling runs under one directory (LeNet-5's
/// <c>relu</c> and <c>sigmoid</c>) are overlaid in one chart per scalar.
/// </summary>
/// <remarks>
/// The training series is the tag <c>loss</c> (or <c>train/loss</c>), the test series <c>test/loss</c>, and likewise
/// for accuracy, as <see cref="Trainer"/> logs them. Training values are logged per batch and noisy: with 20 points or
/// more they are drawn faint as logged and bold smoothed as TensorBoard smooths them (its debiased exponential moving
/// average, weight 0.6). Where a resumed run logged a step again, the later value is drawn. Values that are not finite
/// are left out (and named in the warnings). Accuracy is shown in percent.
/// </remarks>
public static class TrainingCharts
{
    /// <summary>The loss chart's file name.</summary>
    public const string LossFile = "loss.png";

    /// <summary>The accuracy chart's file name.</summary>
    public const string AccuracyFile = "accuracy.png";

    /// <summary>Default chart width in pixels.</summary>
    public const int DefaultWidth = 1000;

    /// <summary>Default chart height in pixels.</summary>
    public const int DefaultHeight = 600;

    /// <summary>TensorBoard's default smoothing weight.</summary>
    public const double Smoothing = 0.6;

    // Below this many points a series is drawn as logged, with markers: smoothing a few points only hides them.
    const int SmoothFrom = 20;

    sealed record Metric(string Name, string File, string Title, string Axis, bool Percent);

    static readonly Metric[] Metrics =
    [
        new("loss", LossFile, "Loss", "loss (softmax cross entropy)", Percent: false),
        new("accuracy", AccuracyFile, "Accuracy", "accuracy", Percent: true),
    ];

    /// <summary>
    /// The runs under <paramref name="directory"/>: the directory itself when it holds event files, then each direct
    /// subfolder that holds them, in name order.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither the directory nor any direct subfolder holds event files.</exception>
    public static IReadOnlyList<string> FindRuns(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"there is no run directory '{directory}'.");
        var runs = new List<string>();
        if (ScalarLog.EventFilesIn(full).Count > 0) runs.Add(full);
        var children = Directory.GetDirectories(full);
        Array.Sort(children, StringComparer.Ordinal);
        runs.AddRange(children.Where(child => ScalarLog.EventFilesIn(child).Count > 0));
        if (runs.Count == 0)
            throw new FileNotFoundException(
                $"'{directory}' holds no TensorBoard event files (events.out.tfevents.*), nor does any folder directly in it.", directory);
        return runs;
    }

    /// <summary>
    /// Reads the runs under <paramref name="directory"/> (<see cref="FindRuns"/>) and writes <see cref="LossFile"/> and
    /// <see cref="AccuracyFile"/> into it, each only when some run logged that scalar. A chart is written to a temporary
    /// file and renamed, so a failed write leaves the previous chart.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> or <paramref name="height"/> is below 100 or above 10000.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">There are no event files there.</exception>
    /// <exception cref="InvalidDataException">An event file is damaged; the message names it, the record and its offset.</exception>
    /// <exception cref="IOException">A file cannot be read or a chart cannot be written.</exception>
    public static DrawnCharts Draw(string directory, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 10_000);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 10_000);
        var runs = FindRuns(directory);
        string target = Path.GetFullPath(directory);
        var warnings = new List<string>();
        var logs = new List<(string Name, ScalarLog Log)>();
        foreach (string run in runs)
        {
            var log = ScalarLog.ReadRun(run);
            warnings.AddRange(log.Warnings);
            logs.Add((RunName(run), log));
        }

        var files = new List<string>();
        foreach (var metric in Metrics)
        {
            var series = new List<Series>();
            foreach (var (name, log) in logs)
            {
                if (Points(log, metric.Name, "train/" + metric.Name) is { } train) series.Add(new Series(name, "train", train));
                if (Points(log, "test/" + metric.Name) is { } test) series.Add(new Series(name, "test", test));
            }
            if (series.Count == 0) continue;
            foreach (var s in series.Where(s => s.Dropped > 0))
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Run} {s.Split} {metric.Name}: {s.Dropped} value{(s.Dropped == 1 ? " is" : "s are")} NaN or infinite and not drawn."));
            string file = Path.Combine(target, metric.File);
            // The title names what is drawn: the directory, or the one run found in it.
            string title = logs.Count == 1 && runs[0] != target ? $"{RunName(target)}/{logs[0].Name}" : RunName(target);
            byte[] png = Render(metric, series, logs.Count > 1, title, width, height);
            AtomicFile.Write(file, stream => stream.Write(png));
            files.Add(file);
        }
        return new DrawnCharts(files, runs, warnings);
    }

    /// <summary>TensorBoard's smoothing: a debiased exponential moving average with <paramref name="weight"/> (0: none).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is not in [0, 1).</exception>
    public static double[] Smooth(ReadOnlySpan<double> values, double weight = Smoothing)
    {
        if (!(weight is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "TrainingCharts.Smooth: the weight must be in [0, 1).");
        var smoothed = new double[values.Length];
        double last = 0, debias = 1;
        for (int i = 0; i < values.Length; i++)
        {
            // As TensorBoard's scalar card: the average starts at 0 and is divided by 1 - weight^n, so early points are not pulled to 0.
            last = last * weight + (1 - weight) * values[i];
            debias *= weight;
            smoothed[i] = last / (1 - debias);
        }
        return smoothed;
    }

    // One line of a chart: a run's train or test values, with the steps logged again after a resume replaced by their later value.
    sealed class Series
    {
        public Series(string run, string split, IReadOnlyList<ScalarPoint> points)
        {
            Run = run;
            Split = split;
            var kept = new List<ScalarPoint>(points.Count);
            foreach (var point in points)
            {
                while (kept.Count > 0 && kept[^1].Step >= point.Step) kept.RemoveAt(kept.Count - 1);
                kept.Add(point);
            }
            var finite = kept.Where(p => double.IsFinite(p.Value)).ToList();
            Dropped = kept.Count - finite.Count;
            Steps = [.. finite.Select(p => (double)p.Step)];
            Values = [.. finite.Select(p => p.Value)];
        }

        public string Run { get; }
        public string Split { get; }
        public double[] Steps { get; }
        public double[] Values { get; }
        public int Dropped { get; }
    }

    // ScottPlot's own sans-serif guess falls back to a serif face on Linux; these read better at chart sizes.
    static readonly Lazy<string> SansFont = new(() =>
    {
        var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Segoe UI" }.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    });

    static IReadOnlyList<ScalarPoint>? Points(ScalarLog log, params string[] tags)
    {
        foreach (string tag in tags)
            if (log.TryGet(tag, out var points) && points.Count > 0) return points;
        return null;
    }

    static string RunName(string directory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)) is { Length: > 0 } name ? name : directory;

    static byte[] Render(Metric metric, List<Series> series, bool manyRuns, string title, int width, int height)
    {
        var plot = new Plot();
        plot.Font.Set(SansFont.Value);
        var palette = new ScottPlot.Palettes.Category10();
        var runs = series.Select(s => s.Run).Distinct().ToList();
        bool smoothed = false;
        foreach (var s in series)
        {
            // One run: train and test in two colours. Several: a colour per run, test dashed with markers.
            var color = palette.GetColor(manyRuns ? runs.IndexOf(s.Run) : s.Split == "train" ? 0 : 1);
            string label = manyRuns ? $"{s.Run} {s.Split}" : s.Split;
            if (s.Values.Length == 0) continue;
            if (s.Values.Length == 1)
            {
                var marker = plot.Add.Marker(s.Steps[0], s.Values[0], MarkerShape.FilledCircle, 10, color);
                marker.LegendText = $"{label}: {Format(metric, s.Values[0])}";
                continue;
            }
            if (s.Split == "train" && s.Values.Length >= SmoothFrom)
            {
                var raw = plot.Add.ScatterLine(s.Steps, s.Values, color.WithAlpha(0.3));
                raw.LineWidth = 1;
                var line = plot.Add.ScatterLine(s.Steps, Smooth(s.Values), color);
                line.LineWidth = 2.5f;
                line.LegendText = label;
                smoothed = true;
                continue;
            }
            var scatter = plot.Add.Scatter(s.Steps, s.Values, color);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
            if (s.Split == "test") scatter.LinePattern = LinePattern.Dashed;
            scatter.LegendText = label;
        }

        plot.Title(manyRuns ? $"{metric.Title}: {string.Join(" vs ", runs)} ({title})" : $"{metric.Title}: {title}");
        plot.XLabel(smoothed ? $"step  (faint: as logged; bold: smoothed as TensorBoard does, {Smoothing.ToString(CultureInfo.InvariantCulture)})" : "step");
        plot.YLabel(metric.Axis);
        if (metric.Percent)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = value => Format(metric, value) };
        // Below the axis, outside the data: inside, a legend covers some run's line somewhere.
        plot.ShowLegend(Edge.Bottom);
        // Autoscaling pads below 0 and above 100 %; values that cannot go there should not seem to.
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        double low = series.Min(s => s.Values.DefaultIfEmpty(0).Min()), high = series.Max(s => s.Values.DefaultIfEmpty(0).Max());
        double pad = metric.Percent ? 0.01 : 0;
        plot.Axes.SetLimitsY(low >= 0 ? Math.Max(limits.Bottom, -pad) : limits.Bottom, metric.Percent && high <= 1 ? Math.Min(limits.Top, 1 + pad) : limits.Top);
        // ScottPlot's defaults are sized for a window; a file is often viewed smaller.
        plot.Axes.Title.Label.FontSize = 20;
        plot.Axes.Bottom.Label.FontSize = plot.Axes.Left.Label.FontSize = 16;
        plot.Axes.Bottom.TickLabelStyle.FontSize = plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 14;
        return plot.GetImage(width, height).GetImageBytes(ImageFormat.Png);
    }

    static string Format(Metric metric, double value) => metric.Percent
        ? (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%"
        : value.ToString("G4", CultureInfo.InvariantCulture);
}
