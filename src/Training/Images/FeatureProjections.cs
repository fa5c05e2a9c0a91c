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
/// <param name="Image">The projection as 8-bit pixels, scaled as tf.summary.image does (0 at mid-gray when it has negative values).</param>
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
        var chosen = new List<(int Layer, int Map, float Activation)>();
        foreach (int layer in layers)
        {
            var strongest = MapMaxima(trace, layer);
            chosen.AddRange(strongest.Select((value, map) => (layer, map, value)).OrderByDescending(m => m.value).ThenBy(m => m.map).Take(topK));
        }
        foreach (var (layer, map) in named ?? [])
        {
            var maxima = MapMaxima(trace, layer);
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
            var item = new ProjectedMap(layer, layerName(layer), map, activation, ByteImage.FromFloats(values, shape[1], shape[2], shape[3], ImageLayout.Hwc));
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

    private static void SwapRedBlue(float[] hwc)
    {
        for (int i = 0; i + 2 < hwc.Length; i += 3) (hwc[i], hwc[i + 2]) = (hwc[i + 2], hwc[i]);
    }
}
