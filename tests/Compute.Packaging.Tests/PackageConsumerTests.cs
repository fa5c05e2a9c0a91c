using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit;

namespace GpuDeconv.Compute.Packaging.Tests;

/// <summary>Packs src/Compute into a folder feed and builds and runs an outside console project that uses only a PackageReference.</summary>
public sealed class PackageConsumerTests(PackageConsumerTests.Feed packed) : IClassFixture<PackageConsumerTests.Feed>
{
    private static readonly string RepositoryRoot = typeof(PackageConsumerTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "RepositoryRoot").Value
        ?? throw new InvalidOperationException("RepositoryRoot assembly metadata is missing.");

    private const string ConsumerProgram = """
        using GpuDeconv.Compute;

        static class Program
        {
            // An ILGPU-style implicitly grouped kernel, found by the generator from the Load call below.
            static void AddConstant(Index1D index, ArrayView<int> data, int constant)
            {
                data[index] = index + constant;
            }

            static int Main()
            {
                using var context = Context.CreateDefault();
                Console.WriteLine(context.Describe());
                int devices = 0;
                foreach (var device in context)
                {
                    devices++;
                    using var accelerator = device.CreateAccelerator(context);
                    var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int>(AddConstant);
                    using var buffer = accelerator.Allocate1D<int>(1000);
                    kernel((int)buffer.Length, buffer.View, 42);
                    int[] data = buffer.GetAsArray1D();
                    int wrong = 0;
                    for (int i = 0; i < data.Length; i++)
                        if (data[i] != i + 42) wrong++;
                    Console.WriteLine(wrong == 0 ? $"RESULT {accelerator.AcceleratorType} ok" : $"RESULT {accelerator.AcceleratorType} FAIL {wrong} wrong");
                }
                Console.WriteLine($"DEVICES {devices}");
                return 0;
            }
        }
        """;

    /// <summary>The library packages this checkout packs.</summary>
    private static readonly string[] Packages =
        ["GpuDeconv.Compute", "GpuDeconv.Kernels", "GpuDeconv.Layers", "GpuDeconv.Training", "GpuDeconv.Compute.Ilgpu", "GpuDeconv.Kernels.Ilgpu"];

    /// <summary>
    /// Every library project packed once for the class (dotnet pack GpuDeconv.sln, as the README says) into a folder
    /// feed, with a version no other feed has, and a nuget.config beside it that takes GpuDeconv.* from that folder
    /// only; removed when the class is done.
    /// </summary>
    public sealed class Feed : IDisposable
    {
        private readonly Lazy<bool> _packed;

        public Feed()
        {
            Work = Path.Combine(Path.GetTempPath(), $"gpudeconv-packaging-{Guid.NewGuid():N}");
            Folder = Path.Combine(Work, "feed");
            Version = $"0.0.0-packagingtest.{DateTime.UtcNow:yyyyMMddHHmmss}";
            _packed = new Lazy<bool>(Pack);
        }

        public string Work { get; }

        public string Folder { get; }

        public string Version { get; }

        /// <summary>Packs on first use, so a filtered run that needs no package packs nothing.</summary>
        public Feed Ready() => _packed.Value ? this : this;

        private bool Pack()
        {
            Directory.CreateDirectory(Folder);
            Run(RepositoryRoot, CancellationToken.None, "pack", Path.Combine(RepositoryRoot, "GpuDeconv.sln"),
                "-c", "Release", "-o", Folder, "--artifacts-path", Path.Combine(Work, "pack-artifacts"), $"-p:Version={Version}");
            File.WriteAllText(Path.Combine(Work, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config>
                    <add key="globalPackagesFolder" value="{Path.Combine(Work, "packages")}" />
                  </config>
                  <packageSources>
                    <clear />
                    <add key="local" value="{Folder}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                  <packageSourceMapping>
                    <packageSource key="local"><package pattern="GpuDeconv.*" /></packageSource>
                    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
                  </packageSourceMapping>
                </configuration>
                """);
            return true;
        }

        public void Dispose() => TryDelete(Work);
    }

    [Fact]
    [Trait("Category", "Packaging")]
    public void EveryLibraryPackageHasItsReadmeDocsSymbolsLicenceAndRepository()
    {
        var feed = packed.Ready();
        foreach (string id in Packages)
        {
            string package = Path.Combine(feed.Folder, $"{id}.{feed.Version}.nupkg");
            Assert.True(File.Exists(package), $"dotnet pack did not produce {package}; the feed holds: {string.Join(", ", Directory.GetFiles(feed.Folder).Select(Path.GetFileName))}");
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"no symbols package beside {package}");
            using var archive = System.IO.Compression.ZipFile.OpenRead(package);
            var entries = archive.Entries.Select(entry => entry.FullName).ToList();
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);
            Assert.Contains("package-readme.md", entries);
            Assert.Contains("LICENSE", entries);
            using var nuspec = new StreamReader(archive.GetEntry($"{id}.nuspec")!.Open());
            string metadata = nuspec.ReadToEnd();
            Assert.Contains("<license type=\"expression\">MIT</license>", metadata);
            Assert.Contains("<readme>package-readme.md</readme>", metadata);
            Assert.Matches("<repository type=\"git\"[^>]*commit=\"[0-9a-f]{40}\"", metadata);
            Assert.DoesNotContain("<description>Package Description</description>", metadata);
        }
        using (var compute = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed.Folder, $"GpuDeconv.Compute.{feed.Version}.nupkg")))
            Assert.Contains("analyzers/dotnet/cs/GpuDeconv.Compute.Generator.dll", compute.Entries.Select(entry => entry.FullName));
    }

    [Fact]
    [Trait("Category", "Packaging")]
    public void PackageReferenceAloneBringsTheGeneratorAndKernelsRun()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var feed = packed.Ready();
        string consumer = Path.Combine(feed.Work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GpuDeconv.Compute" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

        string output = Run(consumer, cancellation, "run", "-c", "Release");
        var results = output.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("RESULT ", StringComparison.Ordinal)).ToList();
        string devicesLine = output.Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith("DEVICES ", StringComparison.Ordinal));
        int devices = int.Parse(devicesLine["DEVICES ".Length..]);
        Assert.True(results.Count == devices && results.All(line => line.EndsWith(" ok", StringComparison.Ordinal)),
            $"Expected '<type> ok' for each of {devices} device(s); consumer output:\n{output}");
        Assert.Contains("RESULT CPU ok", results);
    }

    /// <summary>
    /// samples/Packaged, as a research project builds them: copied out of the repository, restored by version from
    /// the folder feed (no project references), then run.
    /// </summary>
    [Theory]
    [Trait("Category", "Packaging")]
    [InlineData("TrainYourOwnCnn", new[] { "--accelerator", "cpu", "--steps", "120" }, "test accuracy")]
    [InlineData("DeconvYourModel", new[] { "--accelerator", "cpu", "--out", "images" }, "GuidedBackprop: projections")]
    public void TheSamplesRunAgainstThePackagesByVersion(string sample, string[] arguments, string expected)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var feed = packed.Ready();
        string samples = Path.Combine(feed.Work, "samples");
        if (!Directory.Exists(samples))
        {
            string from = Path.Combine(RepositoryRoot, "samples", "Packaged");
            foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(from, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj")) continue;
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(samples, relative))!);
                File.Copy(file, Path.Combine(samples, relative));
            }
        }
        string project = Path.Combine(samples, sample);
        Assert.DoesNotContain("ProjectReference", File.ReadAllText(Path.Combine(project, $"{sample}.csproj")), StringComparison.Ordinal);

        string output = Run(project, cancellation, ["run", "-c", "Release", $"-p:GpuDeconvVersion={feed.Version}", "--", .. arguments]);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        if (sample == "DeconvYourModel")
            Assert.Equal(3, Directory.GetFiles(Path.Combine(project, "images"), "deconv-*.png").Length);
    }

    /// <summary>Runs dotnet with the given arguments; fails the test with the whole output on a non-zero exit.</summary>
    private static string Run(string workingDirectory, CancellationToken cancellation, params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        // The test host runs under MSBuild/VSTest variables that would steer the child build
        // (SDK resolution, node reuse); the child must behave like a fresh shell.
        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        }
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try
        {
            process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish within 5 minutes; output so far:\n{output}");
        }
        process.WaitForExit();
        string text;
        lock (output) text = output.ToString();
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
        return text;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; the OS temp cleaner removes it.
        }
    }
}
