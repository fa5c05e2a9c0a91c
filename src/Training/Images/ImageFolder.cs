using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>A file <see cref="ImageFile.LoadFolder"/> left out, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>The images of a folder (ordinal order of their names) and the files skipped, from <see cref="ImageFile.LoadFolder"/>.</summary>
/// <param name="Directory">The folder, as a full path.</param>
/// <param name="Images">The image files, prepared.</param>
/// <param name="Skipped">The hidden and non-image files, with the reason.</param>
public sealed record ImageFolder(string Directory, IReadOnlyList<LoadedImage> Images, IReadOnlyList<SkippedFile> Skipped)
{
    /// <summary>Every image's input stacked into one [N, H, W, C] batch, in <see cref="Images"/> order.</summary>
    /// <exception cref="InvalidOperationException">The folder holds no image, or two inputs differ in shape (a <see cref="ImageFileOptions.CenterCrop"/> makes them equal); the message names the files.</exception>
    public HostArray Batch()
    {
        if (Images.Count == 0)
            throw new InvalidOperationException(
                $"ImageFolder: no image files in {Directory}{(Skipped.Count > 0 ? $" (skipped: {string.Join("; ", Skipped.Select(s => $"{System.IO.Path.GetFileName(s.Path)}: {s.Reason}"))})" : "")}.");
        var first = Images[0].Input.Shape;
        if (Images.FirstOrDefault(image => image.Input.Shape != first) is { } other)
            throw new InvalidOperationException(
                $"ImageFolder: {other.Name} gives an input of {other.Input.Shape} but {Images[0].Name} one of {first}; a batch needs one shape (set ImageFileOptions.CenterCrop).");
        int size = (int)first.Size;
        var data = new float[(long)Images.Count * size];
        for (int i = 0; i < Images.Count; i++) Images[i].Input.Data.CopyTo(data, (long)i * size);
        return new HostArray(new Shape(Images.Count, first[1], first[2], first[3]), data);
    }
}
