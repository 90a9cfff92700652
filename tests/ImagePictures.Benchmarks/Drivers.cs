using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ImagePictures.Benchmarks;

public static class Drivers
{
    public sealed record AvatarSeed(string Path, string Variant, string ETag, string Type, long Bytes);
    public sealed record FanoutSeed(string Token, string A, string B);

    /// <summary>Gaussian noise over a diagonal gradient, 4000x3000, JPEG Q90: compresses like a photo (several MB).</summary>
    /// <returns>the size of the big one, in bytes</returns>
    public static long GenJpeg(string bigPath, string smallPath)
    {
        var big = PhotoImage.Jpeg(4000, 3000);
        File.WriteAllBytes(bigPath, big);
        File.WriteAllBytes(smallPath, PhotoImage.Jpeg(800, 600));
        return big.Length;
    }

    public static HttpClient Client(string url) => new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(30) })
    {
        BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5),
    };

    public static async Task<string> TokenAsync(HttpClient http, string userId, params string[] roles)
    {
        using var response = await http.PostAsJsonAsync("/dev/token", new { userId, roles });
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("accessToken").GetString()!;
    }

    public static async Task<JsonElement> UploadAsync(HttpClient http, string token, string userId, byte[] jpeg, bool activate, CancellationToken ct = default)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(jpeg);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", "photo.jpg");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{userId}/pictures{(activate ? "?activate=true" : "")}") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"upload: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<AvatarSeed> SeedAvatarAsync(string url, string jpegPath, string outFile)
    {
        using var http = Client(url);
        const string user = "bench-avatar";
        var token = await TokenAsync(http, user);
        var picture = await UploadAsync(http, token, user, await File.ReadAllBytesAsync(jpegPath), activate: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/avatars/{user}?size=64");
        request.Headers.Accept.ParseAdd("image/webp");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        await File.WriteAllBytesAsync(outFile, await response.Content.ReadAsByteArrayAsync());
        return new AvatarSeed($"/avatars/{user}?size=64", $"/pictures/{picture.GetProperty("id").GetString()}/64", response.Headers.ETag!.Tag,
            response.Content.Headers.ContentType!.MediaType!, new FileInfo(outFile).Length);
    }

    public static async Task<FanoutSeed> SeedFanoutAsync(string url, string jpegPath, string user)
    {
        using var http = Client(url);
        var token = await TokenAsync(http, user);
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        var a = await UploadAsync(http, token, user, jpeg, activate: true);
        var b = await UploadAsync(http, token, user, jpeg, activate: false);
        return new FanoutSeed(token, a.GetProperty("id").GetString()!, b.GetProperty("id").GetString()!);
    }
}
