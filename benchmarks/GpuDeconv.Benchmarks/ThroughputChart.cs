using System.Globalization;
using System.Text.Json;
using ScottPlot;
using SkiaSharp;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// <c>--chart ROWS.json OUT.png</c>: the comparison page's throughput chart (benchmarks/compare/compare.py writes the
/// rows): one horizontal bar per accelerator (and PyTorch) for every case and operation, on a logarithmic axis, with
/// GFLOP/s and GB/s in separate panels, drawn with ScottPlot.
/// </summary>
/// <remarks>
/// ROWS.json is <c>[{"label": "conv2 forward", "unit": "GFLOP/s", "series": {"opencl": 88.4, "PyTorch": 108.3}}, ...]</c>;
/// a missing, null, zero or negative rate draws no bar.
/// </remarks>
internal static class ThroughputChart
{
    const int Width = 1100;
    const float LabelWidth = 250, BarPixels = 10, RowGap = 7, PanelChrome = 110;
    const float LegendPixels = 70;
    static readonly string[] Units = ["GFLOP/s", "GB/s"];

    sealed record Row(string Label, string Unit, List<(string Name, double Rate)> Series);

    /// <summary>Reads the rows and writes the chart; the message of a bad file names it.</summary>
    /// <exception cref="InvalidDataException">The rows file is not the JSON above, or holds no rate to draw.</exception>
    public static void Write(string rowsPath, string pngPath)
    {
        var rows = Read(rowsPath);
        var series = rows.SelectMany(r => r.Series.Select(s => s.Name)).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var panels = Units.Select(unit => (Unit: unit, Rows: rows.Where(r => r.Unit == unit && r.Series.Any(s => s.Rate > 0)).ToList()))
            .Where(p => p.Rows.Count > 0).ToList();
        if (panels.Count == 0)
            throw new InvalidDataException($"{rowsPath}: no row has a positive GFLOP/s or GB/s rate to draw.");

        var heights = panels.Select((p, i) => (int)(PanelChrome + (i == 0 ? LegendPixels : 0) + p.Rows.Sum(r => r.Series.Count * BarPixels + RowGap))).ToList();
        using var surface = SKSurface.Create(new SKImageInfo(Width, heights.Sum()));
        surface.Canvas.Clear(SKColors.White);
        int top = 0;
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = Panel(panels[i].Unit, panels[i].Rows, name => palette.GetColor(series.IndexOf(name)), legend: i == 0 ? series : []);
            // Each panel drawn on its own and stacked: a plot rendered into part of a canvas clears all of it.
            using var panel = SKImage.FromEncodedData(plot.GetImage(Width, heights[i]).GetImageBytes(ImageFormat.Png));
            surface.Canvas.DrawImage(panel, 0, top, new SKSamplingOptions(SKFilterMode.Nearest));
            top += heights[i];
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(pngPath);
        png.SaveTo(file);
    }

    static Plot Panel(string unit, List<Row> rows, Func<string, Color> color, List<string> legend)
    {
        var plot = new Plot();
        plot.Font.Set(SansFont.Value);
        var (low, high) = Decades(rows);
        var bars = new List<Bar>();
        var ticks = new List<(double Position, string Label)>();
        // Rows top to bottom: positions go down from 0, one unit per bar, a gap between rows.
        double y = 0, gap = RowGap / BarPixels;
        foreach (var row in rows)
        {
            double first = y;
            foreach (var (name, rate) in row.Series)
            {
                if (rate > 0)
                    bars.Add(new Bar { Position = y, Value = Math.Log10(rate), ValueBase = low, Size = 0.85, FillColor = color(name), LineWidth = 0 });
                y -= 1;
            }
            ticks.Add(((first + y + 1) / 2, row.Label));
            y -= gap;
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;

        plot.Axes.Left.SetTicks([.. ticks.Select(t => t.Position)], [.. ticks.Select(t => t.Label)]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        var decades = Enumerable.Range(low, high - low + 1).ToArray();
        plot.Axes.Bottom.SetTicks([.. decades.Select(d => (double)d)], [.. decades.Select(Decade)]);
        plot.Axes.SetLimits(low, high, y + gap - 0.5, 0.5);
        plot.Grid.YAxisStyle.IsVisible = false;
        plot.Title($"throughput, {unit} (log scale)");
        plot.Axes.Title.Label.FontSize = 16;
        plot.Axes.Bottom.TickLabelStyle.FontSize = plot.Axes.Left.TickLabelStyle.FontSize = 12;
        if (legend.Count > 0)
        {
            foreach (string name in legend)
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color(name) });
            plot.ShowLegend(Edge.Top);
            plot.Legend.FontSize = 13;
        }
        // The same data area in every panel, so their axes line up.
        plot.Layout.Fixed(new PixelPadding(LabelWidth, 20, 30, legend.Count > 0 ? 110 : 40));
        return plot;
    }

    // ScottPlot's own sans-serif guess falls back to a serif face on Linux (as in GpuDeconv.Training's TrainingCharts).
    internal static readonly Lazy<string> SansFont = new(() =>
    {
        var installed = SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Segoe UI" }.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    });

    // The whole decades that hold every rate, at least one wide.
    static (int Low, int High) Decades(List<Row> rows)
    {
        var rates = rows.SelectMany(r => r.Series.Select(s => s.Rate)).Where(r => r > 0).ToList();
        int low = (int)Math.Floor(Math.Log10(rates.Min())), high = (int)Math.Ceiling(Math.Log10(rates.Max()) + 1e-9);
        return (low, Math.Max(high, low + 1));
    }

    static string Decade(int exponent) => exponent is >= -2 and <= 4
        ? Math.Pow(10, exponent).ToString("0.##", CultureInfo.InvariantCulture)
        : "1e" + exponent.ToString(CultureInfo.InvariantCulture);

    static List<Row> Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var rows = new List<Row>();
            foreach (var element in document.RootElement.EnumerateArray())
            {
                var series = element.GetProperty("series").EnumerateObject()
                    .Select(p => (p.Name, Rate: p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : 0)).ToList();
                rows.Add(new Row(element.GetProperty("label").GetString() ?? "", element.GetProperty("unit").GetString() ?? "", series));
            }
            return rows;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a list of {{label, unit, series}} rows: {e.Message}", e);
        }
    }
}
