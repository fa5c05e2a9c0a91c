using System.Runtime.CompilerServices;

// Tests reach the crash-simulation hooks (AtomicFile's stream wrapper) without making them public API.
[assembly: InternalsVisibleTo("GpuDeconv.Training.Tests")]

// The benchmarks build one-node ONNX models (OnnxRuntimeBenchmarks.cs) with the importer's generated protobuf classes.
[assembly: InternalsVisibleTo("GpuDeconv.Benchmarks")]
