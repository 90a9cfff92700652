namespace ImagePictures.Benchmarks.Harness;

/// <summary>The command line (--quick, --only a,b, --out file) and the run lengths that follow from it.</summary>
public sealed record BenchOptions(bool Quick, IReadOnlySet<string> Only, string OutPath)
{
    public static readonly string[] AllSections = ["serving", "gravatar", "zipf", "ingest", "memory", "imaging", "fanout", "hub", "purge", "s3", "events", "micro"];

    public static string Usage =>
        $"usage: scripts/bench.sh [--quick] [--only {string.Join(',', AllSections)}] [--out bench-results.md]";

    public static BenchOptions? Parse(string[] args, string repo)
    {
        var quick = false;
        var only = AllSections.ToHashSet();
        var outPath = Path.Combine(repo, "bench-results.md");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--only" when i + 1 < args.Length:
                    only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    if (only.Except(AllSections).FirstOrDefault() is { } unknown)
                    {
                        Console.Error.WriteLine($"bench: unknown section '{unknown}'");
                        return null;
                    }
                    break;
                case "--out" when i + 1 < args.Length: outPath = Path.GetFullPath(args[++i]); break;
                default: return null;
            }
        }
        return new BenchOptions(quick, only, outPath);
    }

    public bool Wants(string section) => Only.Contains(section);
    public string Mode => Quick ? "quick" : "full";

    // Run lengths: quick stays under about 5 minutes; full adds N=10,000 fan-out, the 100k purge, the 10k S3
    // purge and the micro benchmarks.
    public double IngestSeconds => Quick ? 8 : 30;
    public double WarmupSeconds => Quick ? 5 : 10;
    public int WrkSeconds => Quick ? 4 : 15;
    public int ZipfSeconds => Quick ? 6 : 20;
    public int ServeWarmSeconds => Quick ? 8 : 30;
    public int[] FanoutSizes => Quick ? [1000] : [1000, 10000];
    public int FanoutRounds => Quick ? 30 : 100;
    public int[] PurgeSizes => Quick ? [1000, 10000] : [1000, 10000, 100000];
    public int[] S3PurgeSizes => Quick ? [1000] : [1000, 10000];
    public int DiskBaselineFolders => Quick ? 5000 : 10000;
    public int RabbitEvents => Quick ? 5000 : 20000;
    public int WebhookEvents => Quick ? 500 : 2000;
    public int ZipfUsers => 1_000_000;
    public int ZipfPictures => 20_000;
}
