using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Database;


namespace ImagePictures.Benchmarks;

public static class Drivers
{
    public static void Result(params (string Key, object Value)[] values) =>
        Console.WriteLine("RESULT " + string.Join(' ', values.Select(v => $"{v.Key}={Format(v.Value)}")));

    private static string Format(object v) => v switch
    {
        double d => d.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    public static int PgStart(string dataDir, string database)
    {
        var pg = PrivatePostgres.Start(dataDir, durable: true, m => Console.Error.WriteLine("pg: " + m));
        var conn = pg.CreateDatabaseAsync(database).GetAwaiter().GetResult();
        Result(("conn", conn));
        return 0;
    }

    public static int PgStop(string dataDir)
    {
        // Start() on a running cluster only attaches to it; Stop() then stops it.
        if (!File.Exists(Path.Combine(dataDir, "postmaster.pid"))) return 0;
        PrivatePostgres.Start(dataDir, durable: true).Stop();
        return 0;
    }

    /// <summary>Gaussian noise over a diagonal gradient, 4000x3000, JPEG Q90: compresses like a photo (several MB).</summary>
    public static int GenJpeg(string bigPath, string smallPath)
    {
        var big = PhotoImage.Jpeg(4000, 3000);
        File.WriteAllBytes(bigPath, big);
        File.WriteAllBytes(smallPath, PhotoImage.Jpeg(800, 600));
        Result(("bytes", big.Length), ("mb", big.Length / 1048576.0));
        return 0;
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

    public static async Task<int> SeedAvatarAsync(string url, string jpegPath, string outFile)
    {
        using var http = Client(url);
        const string user = "bench-avatar";
        var token = await TokenAsync(http, user);
        await UploadAsync(http, token, user, await File.ReadAllBytesAsync(jpegPath), activate: true);
        using var response = await http.GetAsync($"/avatars/{user}?size=64");
        response.EnsureSuccessStatusCode();
        await File.WriteAllBytesAsync(outFile, await response.Content.ReadAsByteArrayAsync());
        Result(("path", $"/avatars/{user}?size=64"), ("etag", response.Headers.ETag!.Tag), ("type", response.Content.Headers.ContentType!.MediaType!),
            ("bytes", new FileInfo(outFile).Length));
        return 0;
    }

    public static async Task<int> SeedFanoutAsync(string url, string jpegPath, string user)
    {
        using var http = Client(url);
        var token = await TokenAsync(http, user);
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        var a = await UploadAsync(http, token, user, jpeg, activate: true);
        var b = await UploadAsync(http, token, user, jpeg, activate: false);
        Result(("token", token), ("a", a.GetProperty("id").GetString()!), ("b", b.GetProperty("id").GetString()!));
        return 0;
    }
}
