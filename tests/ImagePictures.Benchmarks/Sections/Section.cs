using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>One part of the benchmark (scripts/bench.sh --only NAME): measures the service and its baselines, adds rows.</summary>
public abstract class Section(string name)
{
    public string Name => name;

    /// <summary>Full runs only (the micro benchmarks).</summary>
    public virtual bool FullOnly => false;

    public abstract Task RunAsync(BenchContext ctx, Report report);

    /// <summary>Every section, in the order of the report.</summary>
    public static IReadOnlyList<Section> All { get; } =
    [
        new ServingSection(), new GravatarSection(), new ZipfSection(), new IngestSection(), new MemorySection(), new ImagingSection(), new FanoutSection(),
        new HubSection(), new PurgeSection(), new S3Section(), new EventsSection(), new MicroSection(),
    ];
}
