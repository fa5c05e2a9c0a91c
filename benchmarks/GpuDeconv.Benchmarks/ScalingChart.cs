using System.Text.Json;
using ScottPlot;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// <c>--scaling-chart SERIES.json OUT.png</c>: the comparison page's cost-against-work chart (compare.py writes the
/// series): milliseconds per GFLOP against GFLOP per call (logarithmic), one line per route and sweep, with the band
/// of +-10% around each line's mean that a 20% spread fits in.
/// </summary>
/// <remarks>SERIES.json is <c>[{"name": "cpu, batch 32 to 1024", "points": [{"label": "b32 s32", "gflop": 4.8, "ms_per_gflop": 0.21}, ...]}, ...]</c>.</remarks>
internal static class ScalingChart
{
    sealed record Point(string Label, double Gflop, double MsPerGflop);

    /// <summary>Reads the series and writes the chart; the message of a bad file names it.</summary>
    /// <exception cref="InvalidDataException">The file is not the JSON above, or holds no point.</exception>
    public static void Write(string seriesPath, string pngPath)
    {
        var series = Read(seriesPath);
        if (series.Count == 0 || series.All(s => s.Points.Count == 0))
            throw new InvalidDataException($"{seriesPath}: no series with a point to draw.");
        var plot = new Plot();
        plot.Font.Set(ThroughputChart.SansFont.Value);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var (name, points) = series[i];
            var color = palette.GetColor(i);
            double[] xs = [.. points.Select(p => Math.Log10(p.Gflop))], ys = [.. points.Select(p => p.MsPerGflop)];
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            // Dashed mean, so a glance shows how far each point strays from it.
            var mean = plot.Add.HorizontalLine(ys.Average(), 1, color, LinePattern.Dotted);
            mean.ExcludeFromLegend = true;
            foreach (var p in points)
            {
                var text = plot.Add.Text(p.Label, Math.Log10(p.Gflop), p.MsPerGflop);
                text.LabelFontSize = 10;
                text.LabelFontColor = color;
                text.LabelOffsetY = -14;
            }
        }
        double low = Math.Floor(series.SelectMany(s => s.Points).Min(p => Math.Log10(p.Gflop)));
        double high = Math.Ceiling(series.SelectMany(s => s.Points).Max(p => Math.Log10(p.Gflop)));
        var decades = Enumerable.Range((int)low, (int)(high - low) + 1).ToArray();
        plot.Axes.Bottom.SetTicks([.. decades.Select(d => (double)d)], [.. decades.Select(d => Math.Pow(10, d).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))]);
        double top = series.SelectMany(s => s.Points).Max(p => p.MsPerGflop);
        plot.Axes.SetLimits(low - 0.1, high + 0.1, 0, top * 1.35);
        plot.Title("cost against work: 3x3 conv 64->64, forward");
        plot.XLabel("GFLOP per call (log scale)");
        plot.YLabel("ms per GFLOP (lower is faster)");
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(pngPath, 1000, 650);
    }

    static List<(string Name, List<Point> Points)> Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return [.. document.RootElement.EnumerateArray().Select(element => (
                element.GetProperty("name").GetString() ?? "",
                element.GetProperty("points").EnumerateArray()
                    .Select(p => new Point(p.GetProperty("label").GetString() ?? "", p.GetProperty("gflop").GetDouble(), p.GetProperty("ms_per_gflop").GetDouble()))
                    .Where(p => p.Gflop > 0 && p.MsPerGflop > 0).ToList()))];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a list of {{name, points: [{{label, gflop, ms_per_gflop}}]}} series: {e.Message}", e);
        }
    }
}
