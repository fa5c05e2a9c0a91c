using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit;

namespace GpuDeconv.Compute.Packaging.Tests;

/// <summary>Packs src/Compute into a folder feed and builds and runs an outside console project that uses only a PackageReference.</summary>
public sealed class PackageConsumerTests
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

    [Fact]
    [Trait("Category", "Packaging")]
    public void PackageReferenceAloneBringsTheGeneratorAndKernelsRun()
    {
        var cancellation = TestContext.Current.CancellationToken;
        string work = Path.Combine(Path.GetTempPath(), $"gpudeconv-packaging-{Guid.NewGuid():N}");
        string feed = Path.Combine(work, "feed");
        string consumer = Path.Combine(work, "consumer");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(consumer);
        // A version no feed has, so restore cannot pick up a stale or foreign package.
        string version = $"0.0.0-packagingtest.{DateTime.UtcNow:yyyyMMddHHmmss}";
        bool succeeded = false;
        try
        {
            Run(RepositoryRoot, cancellation, "pack", Path.Combine(RepositoryRoot, "src", "Compute", "GpuDeconv.Compute.csproj"),
                "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(work, "pack-artifacts"), $"-p:Version={version}");
            string package = Path.Combine(feed, $"GpuDeconv.Compute.{version}.nupkg");
            Assert.True(File.Exists(package), $"dotnet pack did not produce {package}; feed holds: {string.Join(", ", Directory.GetFiles(feed))}");
            using (var archive = System.IO.Compression.ZipFile.OpenRead(package))
            {
                var entries = archive.Entries.Select(entry => entry.FullName).ToList();
                Assert.Contains("analyzers/dotnet/cs/GpuDeconv.Compute.Generator.dll", entries);
                Assert.Contains("lib/net10.0/GpuDeconv.Compute.dll", entries);
            }

            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config>
                    <add key="globalPackagesFolder" value="{Path.Combine(work, "packages")}" />
                  </config>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                  <packageSourceMapping>
                    <packageSource key="local"><package pattern="GpuDeconv.*" /></packageSource>
                    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
                  </packageSourceMapping>
                </configuration>
                """);
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
                    <PackageReference Include="GpuDeconv.Compute" Version="{version}" />
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
            succeeded = true;
        }
        finally
        {
            if (succeeded) TryDelete(work);
            else TestContext.Current.SendDiagnosticMessage($"Packaging test files kept in {work}");
        }
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
