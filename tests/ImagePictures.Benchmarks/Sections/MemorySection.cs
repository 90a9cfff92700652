using System.Net.Http.Headers;
using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// The service's memory: the peak of a burst of 16 concurrent 12 MP uploads (against a fresh process doing the
/// same 16 with ImageSharp), and whether its RSS keeps growing over rounds of hostile and large uploads (the
/// figure MutatedImageTests used to assert).
/// </summary>
public sealed class MemorySection() : Section("memory")
{
    private const int Burst = 16;
    private const int HostileRounds = 10;

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        BenchContext.Log($"ingest memory: {Burst} concurrent uploads, then the ImageSharp loop on the same {Burst} images");
        var mem = await Ingest.MemoryAsync(ctx.ServiceUrl, ctx.BigJpeg, ctx.Service.Pid, Burst);
        var sharp = await MeasuringChild.RunAsync<Ingest.MemoryResult>(ctx, "imagesharp-memory", ctx.BigJpeg, Burst.ToString());
        var peak = Math.Round(mem.PeakMb);
        report.Add(new BenchRow($"ingest memory ({Burst} concurrent 12 MP uploads)",
            $"peak RSS {peak} MB (VmHWM{(mem.PeakReset ? ", reset before the burst" : "")}; {mem.Ok} ok, {mem.Failed} failed)",
            $"bare ImageSharp loop, the same {Burst} images at once: peak RSS {sharp.PeakMb:0} MB",
            BenchRow.Divide(peak, sharp.PeakMb), "≤ 400 MB", BenchRow.MetIf(peak <= 400 && mem.Failed == 0), peak, sharp.PeakMb, "MB"));

        BenchContext.Log($"memory: {HostileRounds} rounds of hostile and large uploads, RSS after each");
        report.Add(await HostileUploadsAsync(ctx));
    }

    /// <summary>
    /// Rounds of uploads that each stress the decoder differently (a truncated 12 MP JPEG, headers claiming
    /// 50,000² and 60,000² pixels, bytes that are no image, and the whole 12 MP photo), 2 at a time. The first
    /// round is the warm-up; the RSS after it is the baseline that the last round's RSS is read against.
    /// </summary>
    private static async Task<BenchRow> HostileUploadsAsync(BenchContext ctx)
    {
        var photo = await File.ReadAllBytesAsync(ctx.BigJpeg);
        (string Name, byte[] Bytes, string Type)[] inputs =
        [
            ("truncated.jpg", photo[..(photo.Length / 2)], "image/jpeg"),
            ("huge.png", TestImages.PngHeaderOnly(50_000, 50_000), "image/png"),
            ("huge.jpg", TestImages.JpegClaiming(60_000, 60_000), "image/jpeg"),
            ("noise.png", Enumerable.Range(0, 65536).Select(i => (byte)(i * 7919 >> 3)).ToArray(), "image/png"),
            ("photo.jpg", photo, "image/jpeg"),
        ];
        using var http = Drivers.Client(ctx.ServiceUrl);
        const string user = "bench-hostile";
        var token = await Drivers.TokenAsync(http, user);
        var unexpected = new List<string>();
        var uploads = 0;

        async Task RoundAsync()
        {
            await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (input, ct) =>
            {
                using var form = new MultipartFormDataContent();
                var file = new ByteArrayContent(input.Bytes);
                file.Headers.ContentType = new MediaTypeHeaderValue(input.Type);
                form.Add(file, "file", input.Name);
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{user}/pictures") { Content = form };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(request, ct);
                var status = (int)response.StatusCode;
                Interlocked.Increment(ref uploads);
                if (status is not (201 or 413 or 415 or 422)) lock (unexpected) unexpected.Add($"{input.Name}: {status}");
            });
            // Keep the user under its picture cap and the disk small.
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/users/{user}");
            delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            (await http.SendAsync(delete)).Dispose();
        }

        await RoundAsync();
        var warm = BenchContext.MemoryMb(ctx.Service.Pid, "VmRSS");
        for (var i = 1; i < HostileRounds; i++) await RoundAsync();
        var end = BenchContext.MemoryMb(ctx.Service.Pid, "VmRSS");
        var r = BenchRow.Divide(end, warm);
        return new BenchRow($"service RSS over hostile and large uploads ({HostileRounds} rounds of {inputs.Length}: truncated 12 MP JPEG, 50,000² PNG header, 60,000² JPEG header, undecodable bytes, the 12 MP photo)",
            $"RSS {end:0} MB after {uploads} uploads; {unexpected.Count} unexpected answers{(unexpected.Count > 0 ? " (" + string.Join(", ", unexpected.Take(3)) + ")" : "")}",
            $"RSS after the first round (warm-up): {warm:0} MB",
            r, "≤ 1.2× the RSS after warm-up; only 201/413/415/422", BenchRow.MetIf(r <= 1.2 && unexpected.Count == 0), end, warm, "MB");
    }
}
