using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Small helpers for calling the service.</summary>
public static class Service
{
    public static MultipartFormDataContent Form(byte[] bytes, string fileName = "picture.jpg")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        return form;
    }

    public static async Task<Guid?> IdOf(HttpResponseMessage response)
    {
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.TryGetProperty("id", out var id) && id.TryGetGuid(out var guid) ? guid : null;
    }

    /// <summary>The /api routes the running service documents in its OpenAPI document.</summary>
    public static async Task<HashSet<string>> RoutesAsync(HttpClient client)
    {
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        return doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
    }

    /// <summary>True when the service's assembly contains the orphan-sweep job (branch `jobs` merged into main).</summary>
    public static bool OrphanSweepJobExists =>
        typeof(Program).Assembly.GetTypes().Any(t => t.Name == "OrphanSweepJob");

    /// <summary>Small JPEGs of different colours, made with libvips.</summary>
    public static byte[][] SmallJpegs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            double[] colour = [random.Next(256), random.Next(256), random.Next(256)];
            using var img = TestImages.Split(96, 80, colour, TestImages.Blue);
            return TestImages.Jpeg(img, 80);
        }).ToArray();
    }
}
