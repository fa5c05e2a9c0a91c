namespace GpuDeconv.Training.Tests.Onnx;

internal static class TestImages
{
    // TEMPORARY: a smooth synthetic RGB image in 0..255 until the photo reader lands.
    public static float[] Photo224()
    {
        var data = new float[224 * 224 * 3];
        for (int y = 0; y < 224; y++)
            for (int x = 0; x < 224; x++)
            {
                data[(y * 224 + x) * 3 + 0] = 127.5f + 127.5f * MathF.Sin(x * 0.05f);
                data[(y * 224 + x) * 3 + 1] = 127.5f + 127.5f * MathF.Cos(y * 0.07f);
                data[(y * 224 + x) * 3 + 2] = (x + y) * 255f / 446f;
            }
        return data;
    }
}
