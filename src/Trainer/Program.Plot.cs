using System.CommandLine;
using GpuDeconv.Training;

namespace GpuDeconv.Trainer;

// `gpudeconv plot RUN`: loss.png and accuracy.png from a run's event files (TrainingCharts), and the same charts at
// the end of `train`, where `--activation both` also overlays the relu and sigmoid runs in their parent directory.
public static partial class Program
{
    private const string RunHint = "Give a run's log directory (runs/<name>, as gpudeconv train prints it) or a folder holding runs.";

    private static Command PlotCommand(TextWriter output, TextWriter error)
    {
        var run = new Argument<string>("run")
        {
            Description = "A run's log directory, or a folder whose runs are overlaid (LeNet-5's relu and sigmoid under --activation both's --logdir).",
        };
        var width = new Option<int>("--width") { Description = "Chart width in pixels (100 to 10000).", DefaultValueFactory = _ => TrainingCharts.DefaultWidth };
        var height = new Option<int>("--height") { Description = "Chart height in pixels (100 to 10000).", DefaultValueFactory = _ => TrainingCharts.DefaultHeight };
        var command = new Command("plot", $"Draw {TrainingCharts.LossFile} and {TrainingCharts.AccuracyFile} (train and test) from a run's TensorBoard event files, into the run's directory.")
        {
            run, width, height,
        };
        command.SetAction(parse =>
        {
            int w = parse.GetValue(width), h = parse.GetValue(height);
            if (w is < 100 or > 10_000 || h is < 100 or > 10_000)
            {
                error.WriteLine($"error: --width and --height must be 100 to 10000 pixels, not {w} and {h}.");
                return UsageError;
            }
            return Plot(parse.GetValue(run)!, w, h, output, error);
        });
        return command;
    }

    private static int Plot(string directory, int width, int height, TextWriter output, TextWriter error)
    {
        DrawnCharts charts;
        try
        {
            charts = TrainingCharts.Draw(directory, width, height);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            error.WriteLine($"error: {Sentence(e.Message)} {RunHint}");
            return MissingInput;
        }
        catch (InvalidDataException e)
        {
            error.WriteLine($"error: {Sentence(e.Message)} The file is corrupt, not cut short by a crash: restore it from a copy, or move it out of the run directory to plot the rest.");
            return MissingInput;
        }
        foreach (string warning in charts.Warnings) output.WriteLine($"warning: {warning}");
        if (charts.Files.Count == 0)
        {
            error.WriteLine($"error: no run under '{directory}' logged loss or accuracy ({string.Join(", ", charts.Runs)}), so there is nothing to plot.");
            return MissingInput;
        }
        foreach (string file in charts.Files) output.WriteLine($"wrote {file}");
        return 0;
    }

    /// <summary>The charts a finished run drew, for the summary table: their files, or why there are none.</summary>
    private static string DescribeCharts(DrawnCharts charts, TextWriter output)
    {
        foreach (string warning in charts.Warnings) output.WriteLine($"warning: {warning}");
        return charts.Files.Count > 0 ? string.Join(", ", charts.Files.Select(Path.GetFileName)) : "none";
    }

    /// <summary>After <c>--activation both</c>: the relu and sigmoid runs overlaid in their parent directory; a failure is a warning, the runs are done.</summary>
    private static void DrawComparison(string directory, TextWriter output)
    {
        try
        {
            var charts = TrainingCharts.Draw(directory);
            foreach (string warning in charts.Warnings) output.WriteLine($"warning: {warning}");
            if (charts.Files.Count > 0) output.WriteLine($"charts comparing {string.Join(" and ", charts.Runs.Select(Path.GetFileName))}: {string.Join(", ", charts.Files)}");
        }
        catch (Exception e) when (e is InvalidDataException or DllNotFoundException or TypeInitializationException)
        {
            output.WriteLine($"warning: the comparison charts were not drawn: {Sentence(e is TypeInitializationException { InnerException: { } inner } ? inner.Message : e.Message)}");
        }
    }
}
