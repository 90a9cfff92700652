using System.Text.Json;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>
/// Measurements of a process's own memory run in a fresh child of this program (`ImagePictures.Benchmarks child
/// NAME ...`), so that the benchmark's earlier work does not count: the child prints its result as JSON on its
/// last line of output.
/// </summary>
public static class MeasuringChild
{
    public static async Task<T> RunAsync<T>(BenchContext ctx, params string[] args)
    {
        var output = await ChildProcess.RunAsync(ctx.Cleanup, "dotnet", [ctx.BenchmarkDll, "child", .. args]);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonSerializer.Deserialize<T>(last) ?? throw new InvalidOperationException($"child {args[0]}: no result in {last}");
    }

    /// <summary>The child's side: runs the named measurement and prints its JSON.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        object result = args[0] switch
        {
            "imagesharp-memory" => await ImageSharpLoop.MemoryAsync(args[1], int.Parse(args[2])),
            "imaging" => await Sections.ImagingSection.MeasureAsync(args[1]),
            _ => throw new ArgumentException($"unknown child measurement '{args[0]}'"),
        };
        Console.WriteLine(JsonSerializer.Serialize(result, result.GetType()));
        return 0;
    }
}
