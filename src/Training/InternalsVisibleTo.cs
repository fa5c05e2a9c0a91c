using System.Runtime.CompilerServices;

// Tests reach the crash-simulation hooks (AtomicFile's stream wrapper) without making them public API.
[assembly: InternalsVisibleTo("GpuDeconv.Training.Tests")]
