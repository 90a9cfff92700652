using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ImagePictures.Imaging;
using NetVips;

namespace ImagePictures.Benchmarks;

public static class Micro
{
    public static int Run(string[] args)
    {
        // In-process: no generated project to restore and build, and libvips is loaded once.
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator)
            .WithArtifactsPath(Environment.GetEnvironmentVariable("BENCH_ARTIFACTS") ?? Path.Combine(Path.GetTempPath(), "bdn-artifacts"));
        BenchmarkRunner.Run<PipelineBenchmarks>(config, args);
        return 0;
    }
}

/// <summary>The imaging pipeline on the 12 MP JPEG: header probe, the whole normalisation, and each encoder on the 512 master.</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private static readonly Func<Image, int, byte[]> SaveJpeg = Bind<Func<Image, int, byte[]>>("SaveJpeg");
    private static readonly Func<Image, byte[]> SavePng = Bind<Func<Image, byte[]>>("SavePng");
    private static readonly Func<Image, byte[]> SaveWebp = Bind<Func<Image, byte[]>>("SaveWebp");

    private ImagePipeline _pipeline = null!;
    private byte[] _jpeg = null!;
    private Image _master = null!;

    private static T Bind<T>(string name) where T : Delegate =>
        typeof(ImagePipeline).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)?.CreateDelegate<T>()
        ?? throw new MissingMethodException(nameof(ImagePipeline), name);

    [GlobalSetup]
    public void Setup()
    {
        _pipeline = new ImagePipeline(new ImagingOptions());
        _jpeg = PhotoImage.Jpeg(4000, 3000);
        _master = ImagePipeline.LoadSquare(_jpeg, 512);
    }

    [GlobalCleanup]
    public void Cleanup() => _master.Dispose();

    [Benchmark] public ImageProbe Probe() => _pipeline.Probe(_jpeg);
    [Benchmark] public NormalizedPicture Normalize() => _pipeline.NormalizeAsync(_jpeg).GetAwaiter().GetResult();
    [Benchmark] public void LoadSquare512() { using var h = ImagePipeline.LoadSquare(_jpeg, 512); }
    [Benchmark] public byte[] EncodeJpeg512() => SaveJpeg(_master, 85);
    [Benchmark] public byte[] EncodePng512() => SavePng(_master);
    [Benchmark] public byte[] EncodeWebp512() => SaveWebp(_master);
}
