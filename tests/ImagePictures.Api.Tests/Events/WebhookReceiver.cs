using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePictures.Api.Tests.Events;

/// <summary>
/// A real Kestrel endpoint on 127.0.0.1 that receives webhooks at /hooks/{name}: it checks each
/// request's Standard Webhooks signature with the secret it was given for that name, answers 500
/// while told to fail, and records every attempt.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Attempt(string Hook, string Id, long Timestamp, string Signature, string Body, bool SignatureValid, int Answer)
    {
        public long Seq => JsonDocument.Parse(Body).RootElement.GetProperty("seq").GetInt64();
        public string Type => JsonDocument.Parse(Body).RootElement.GetProperty("type").GetString()!;
    }

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _secrets = new();
    private readonly ConcurrentDictionary<string, int> _failNext = new();
    private readonly ConcurrentDictionary<string, bool> _failAlways = new();
    private readonly ConcurrentQueue<Attempt> _attempts = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public string Url(string hook) => $"{BaseUrl}/hooks/{hook}";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks/{hook}", receiver.Receive);
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    public void SetSecret(string hook, string secret) => _secrets[hook] = secret;
    public void FailNext(string hook, int count) => _failNext[hook] = count;
    public void FailAlways(string hook, bool fail) => _failAlways[hook] = fail;

    public IReadOnlyList<Attempt> Attempts(string hook) => _attempts.Where(a => a.Hook == hook).ToList();
    public IReadOnlyList<Attempt> Accepted(string hook) => _attempts.Where(a => a.Hook == hook && a.Answer == 200).ToList();

    /// <summary>The seqs accepted, each once, in the order they were first accepted (delivery is at least once).</summary>
    public IReadOnlyList<long> AcceptedSeqs(string hook) => Accepted(hook).Select(a => a.Seq).Distinct().ToList();

    private async Task<IResult> Receive(string hook, HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var id = request.Headers["webhook-id"].ToString();
        var timestamp = long.TryParse(request.Headers["webhook-timestamp"], out var t) ? t : -1;
        var signature = request.Headers["webhook-signature"].ToString();
        var valid = _secrets.TryGetValue(hook, out var secret) && Verify(secret, id, timestamp, body, signature);

        var answer = !valid ? 401 : _failAlways.GetValueOrDefault(hook) ? 500 : 200;
        if (answer == 200 && _failNext.TryGetValue(hook, out var left) && left > 0)
        {
            _failNext[hook] = left - 1;
            answer = 500;
        }
        _attempts.Enqueue(new Attempt(hook, id, timestamp, signature, body, valid, answer));
        return Results.StatusCode(answer);
    }

    /// <summary>What a consumer does: HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the secret's bytes, compared in constant time with each v1 signature.</summary>
    public static bool Verify(string secret, string id, long timestamp, string body, string signatureHeader)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return signatureHeader.Split(' ').Any(s => s.StartsWith("v1,", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(expected, TryBase64(s[3..])));
    }

    private static byte[] TryBase64(string s)
    {
        try { return Convert.FromBase64String(s); } catch (FormatException) { return []; }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
