using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>How <see cref="FeatureProjections"/> takes a feature map back to pixels.</summary>
public enum ProjectionMode
{
    /// <summary>Zeiler and Fergus's deconvnet (<see cref="DeconvnetVariant.ZeilerFergus"/>).</summary>
    Deconvnet,

    /// <summary>Guided backpropagation (<see cref="DeconvnetVariant.GuidedBackprop"/>).</summary>
    GuidedBackprop,

    /// <summary>The gradient's saliency map, max over channels of |dA/dx| (<see cref="Deconvnet.Saliency"/>).</summary>
    Saliency,
}

/// <summary>One projected feature map of one image.</summary>
/// <param name="Layer">The trace layer.</param>
/// <param name="LayerName">The layer's name (an ONNX node, or "layer k").</param>
/// <param name="Map">The feature map (channel).</param>
/// <param name="Activation">The map's strongest activation in the image: what was projected.</param>
/// <param name="Image">The projection as 8-bit pixels: 0 at mid-gray and the 99.5th percentile of |p| at the ends (saliency: 0 black), so that a few extreme pixels do not wash out the rest.</param>
public sealed record ProjectedMap(int Layer, string LayerName, int Map, float Activation, ByteImage Image);

/// <summary>
/// The feature maps of chosen layers that an image excites most, each projected back to pixels from its strongest
/// activation (Zeiler and Fergus's figure 2): the per-image core of <c>gpudeconv visualize --image</c>.
/// </summary>
public static class FeatureProjections
{
    /// <summary>
    /// For each layer of <paramref name="layers"/> of a traced forward pass of one image ([1, H, W, C]), the
    /// <paramref name="topK"/> maps with the largest activation, strongest first, then the maps named in
    /// <paramref name="named"/> (layer, map); each projected from its strongest activation with <paramref name="mode"/>.
    /// <paramref name="bgr"/> says that the network's input channels are blue, green, red (a Caffe/CNTK ResNet), so
    /// that the pictures come out in RGB. <paramref name="progress"/> hears each map as it is done.
    /// </summary>
    /// <exception cref="ArgumentException">The trace holds more than one image, a layer or named map does not exist, or topK is negative.</exception>
    public static IReadOnlyList<ProjectedMap> Project(
        ForwardTrace trace, IReadOnlyList<int> layers, int topK, ProjectionMode mode,
        IReadOnlyList<(int Layer, int Map)>? named = null, Func<int, string>? layerName = null, bool bgr = false,
        Action<ProjectedMap>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (trace.Input is not { } input || input.Shape[0] != 1)
            throw new ArgumentException($"FeatureProjections: the trace must hold the forward pass of one image ([1, H, W, C]); it holds {(trace.Input is null ? "nothing" : trace.Input.Shape.ToString())}.", nameof(trace));
        layerName ??= layer => $"layer {layer}";
        // Each layer's output is read to the host once, however many of its maps are chosen.
        var maximaOf = new Dictionary<int, float[]>();
        float[] Maxima(int layer) => maximaOf.TryGetValue(layer, out var known) ? known : maximaOf[layer] = MapMaxima(trace, layer);
        var chosen = new List<(int Layer, int Map, float Activation)>();
        foreach (int layer in layers)
            chosen.AddRange(Maxima(layer).Select((value, map) => (layer, map, value)).OrderByDescending(m => m.value).ThenBy(m => m.map).Take(topK));
        foreach (var (layer, map) in named ?? [])
        {
            var maxima = Maxima(layer);
            if ((uint)map >= (uint)maxima.Length)
                throw new ArgumentException($"FeatureProjections: layer {layer} ({layerName(layer)}) has {maxima.Length} feature maps (0..{maxima.Length - 1}); map {map} does not exist.", nameof(named));
            if (!chosen.Contains((layer, map, maxima[map]))) chosen.Add((layer, map, maxima[map]));
        }

        var results = new List<ProjectedMap>(chosen.Count);
        foreach (var (layer, map, activation) in chosen)
        {
            using var scope = new TensorScope();
            var selection = ProjectionSelection.StrongestActivation(map);
            var projection = mode switch
            {
                ProjectionMode.Deconvnet => Deconvnet.Project(trace, layer, DeconvnetVariant.ZeilerFergus, selection),
                ProjectionMode.GuidedBackprop => Deconvnet.Project(trace, layer, DeconvnetVariant.GuidedBackprop, selection),
                _ => Deconvnet.Saliency(Deconvnet.Project(trace, layer, DeconvnetVariant.Gradient, selection)),
            };
            var shape = projection.Shape;
            var values = projection.ToArray();
            if (bgr && shape[3] == 3) SwapRedBlue(values);
            var item = new ProjectedMap(layer, layerName(layer), map, activation, ToPixels(values, shape[1], shape[2], shape[3], signed: mode != ProjectionMode.Saliency));
            results.Add(item);
            progress?.Invoke(item);
        }
        return results;
    }

    /// <summary>The layers whose output is the last at its spatial size (the end of each stage): a default choice of layers to look at.</summary>
    public static IReadOnlyList<int> StageEnds(ForwardTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var ends = new List<int>();
        for (int layer = 0; layer < trace.LayerCount; layer++)
        {
            var shape = trace.LayerOutput(layer).Shape;
            bool last = layer + 1 == trace.LayerCount || trace.LayerOutput(layer + 1).Shape is var next && (next[1] != shape[1] || next[2] != shape[2]);
            if (last) ends.Add(layer);
        }
        return ends;
    }

    // Per map, its largest activation in the (one) image.
    private static float[] MapMaxima(ForwardTrace trace, int layer)
    {
        var output = trace.LayerOutput(layer);
        int channels = output.Shape[3];
        var maxima = Enumerable.Repeat(float.NegativeInfinity, channels).ToArray();
        var values = output.ToArray();
        for (int i = 0; i < values.Length; i++)
            if (values[i] > maxima[i % channels]) maxima[i % channels] = values[i];
        return maxima;
    }

    // Contrast for viewing: the 99.5th percentile of |p| maps to full scale (clipped above), as deconvnet pictures are
    // usually shown; tf.summary.image's max scaling leaves most of a projection at mid-gray.
    private static ByteImage ToPixels(float[] values, int height, int width, int channels, bool signed)
    {
        // Over the cells the projection reaches: a low layer's receptive field is a small patch of zeros elsewhere.
        var magnitudes = values.Select(MathF.Abs).Where(v => float.IsFinite(v) && v > 0f).ToArray();
        Array.Sort(magnitudes);
        float scale = magnitudes.Length == 0 ? 0f : magnitudes[(int)Math.Min(magnitudes.Length - 1, Math.Floor(0.995 * magnitudes.Length))];
        if (scale <= 0f) scale = magnitudes.Length == 0 ? 1f : Math.Max(magnitudes[^1], 1e-30f);
        var pixels = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = float.IsFinite(values[i]) ? values[i] / scale : 0f;
            pixels[i] = (byte)Math.Clamp(MathF.Round(signed ? 127.5f + 127.5f * v : 255f * v), 0f, 255f);
        }
        return new ByteImage(pixels, height, width, channels);
    }

    private static void SwapRedBlue(float[] hwc)
    {
        for (int i = 0; i + 2 < hwc.Length; i += 3) (hwc[i], hwc[i + 2]) = (hwc[i + 2], hwc[i]);
    }
}
