using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using StandardWebhooks;

namespace ImagePictures.Api.Events;

/// <summary>
/// Standard Webhooks signing, through the StandardWebhooks library: whsec_ secrets and the v1
/// signature (HMAC-SHA256) of "{id}.{timestamp}.{body}". The body is the event's UTF-8 JSON, so
/// handing the library its text signs exactly its bytes.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, string id, long timestamp, ReadOnlySpan<byte> body) =>
        new StandardWebhook(secret).Sign(id, DateTimeOffset.FromUnixTimeSeconds(timestamp), Encoding.UTF8.GetString(body));
}

/// <summary>
/// Which addresses a webhook may reach. Without Events:Webhooks:AllowPrivateNetworks, loopback,
/// private, link-local and other non-public addresses are refused, both when an endpoint is
/// registered and when each connection is made (so a name that later resolves inward is refused too).
/// </summary>
public static class WebhookAddresses
{
    /// <summary>
    /// False for loopback, private, link-local, multicast, site-local and other inward addresses, and
    /// for an IPv6 address that carries such an IPv4 address (mapped, IPv4-compatible, NAT64, 6to4,
    /// Teredo): on an IPv6-only host behind NAT64, 64:ff9b::a9fe:a9fe is the metadata service.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork) return IsPublicIPv4(address.GetAddressBytes());
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        var b = address.GetAddressBytes();
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast // fe80::/10, fec0::/10, ff00::/8
            || (b[0] & 0xFE) == 0xFC) // unique local fc00::/7
            return false;
        return EmbeddedIPv4(b).All(IsPublicIPv4);
    }

    private static bool IsPublicIPv4(byte[] b) =>
        !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
          || (b[0] == 100 && b[1] is >= 64 and <= 127)   // carrier-grade NAT
          || (b[0] == 169 && b[1] == 254)                // link-local, cloud metadata
          || (b[0] == 172 && b[1] is >= 16 and <= 31)
          || (b[0] == 192 && b[1] == 168)
          || (b[0] == 192 && b[1] == 0 && b[2] == 0)
          || (b[0] == 198 && b[1] is 18 or 19));

    /// <summary>The IPv4 addresses an IPv6 address (16 bytes) may lead to; none for an ordinary one.</summary>
    private static IEnumerable<byte[]> EmbeddedIPv4(byte[] b)
    {
        static bool Zero(ReadOnlySpan<byte> s) => !s.ContainsAnyExcept((byte)0);
        if (Zero(b.AsSpan(0, 10)) && ((b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0)))
            yield return b[12..16];                                  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible)
        else if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
        {
            if (Zero(b.AsSpan(4, 8))) yield return b[12..16];        // NAT64 well-known prefix 64:ff9b::/96
            else if (b[4] == 0 && b[5] == 1)
            {
                // NAT64 local-use 64:ff9b:1::/48: the operator's prefix length is not known here, so
                // every RFC 6052 position counts (/48, /56, /64, /96); byte 8 is always skipped.
                yield return [b[6], b[7], b[9], b[10]];
                yield return [b[7], b[9], b[10], b[11]];
                yield return b[9..13];
                yield return b[12..16];
            }
        }
        else if (b[0] == 0x20 && b[1] == 0x02) yield return b[2..6]; // 6to4 2002:a.b.c.d::/48
        else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
            yield return b[12..16].Select(x => (byte)~x).ToArray();  // Teredo 2001::/32: the client's address, inverted
    }

    /// <summary>null when the URL's host may be used; otherwise why not.</summary>
    public static async Task<string?> CheckHostAsync(Uri url, bool allowPrivate, CancellationToken ct)
    {
        if (allowPrivate) return null;
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.DnsSafeHost, out var literal)) addresses = [literal];
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, ct); }
            catch (SocketException) { return $"the host '{url.Host}' cannot be resolved"; }
        }
        return addresses.FirstOrDefault(a => !IsPublic(a)) is { } inner
            ? $"the host '{url.Host}' is a loopback or private address ({inner}); set Events:Webhooks:AllowPrivateNetworks=true to allow it"
            : null;
    }
}

/// <summary>The one HttpClient of the webhooks: no redirects, the configured timeout, and the address check on every connection.</summary>
public sealed class WebhookClient : IDisposable
{
    public HttpClient Http { get; }

    public WebhookClient(EventsOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.WebhookTimeout,
            ConnectCallback = async (context, ct) =>
            {
                var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
                    ? [literal] : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
                var allowed = options.AllowPrivateNetworks ? addresses : addresses.Where(WebhookAddresses.IsPublic).ToArray();
                if (allowed.Length == 0)
                    throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to loopback or private addresses, which Events:Webhooks:AllowPrivateNetworks does not allow");
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        Http = new HttpClient(handler) { Timeout = options.WebhookTimeout };
        Http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ImagePictures-Webhooks", "1"));
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>
/// The webhook endpoints: each event is a POST of its JSON to the row's url, signed with the row's
/// secret; any 2xx is success. One event at a time, so that n+1 is sent only after n succeeded.
/// </summary>
public sealed class WebhookSink(EventsOptions options, TimeProvider clock) : IEventSink, IDisposable
{
    private readonly WebhookClient _client = new(options);

    public string Kind => "webhook";
    public bool IsConfigured => true;
    public TimeSpan? DisableAfter => options.WebhookDisableAfter;
    public TimeSpan RetryDelay(int failures) => options.WebhookRetryDelays[Math.Min(failures, options.WebhookRetryDelays.Length) - 1];
    public string Target(EventSinkStatusRow row) => row.Url ?? "";
    public Task PrepareAsync(EventSinkStore store, CancellationToken ct) => Task.CompletedTask; // rows come from the admin routes

    public async Task<SinkDelivery> DeliverAsync(EventSinkRow row, IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (await SendAsync(row, events[i], ct) is { } error) return new SinkDelivery(i, error);
        }
        return new SinkDelivery(events.Count, null);
    }

    private async Task<string?> SendAsync(EventSinkRow row, OutgoingEvent e, CancellationToken ct)
    {
        var id = e.Seq.ToString(CultureInfo.InvariantCulture);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, row.Url) { Content = new ByteArrayContent(e.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(row.Secret!, id, timestamp, e.Body));
        try
        {
            using var response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300 ? null : $"HTTP {status} {response.ReasonPhrase} for event {id}";
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"No answer within {options.WebhookTimeout.TotalSeconds:0.#} s for event {id}";
        }
        catch (HttpRequestException x)
        {
            return $"{x.Message} (event {id})";
        }
    }

    public void Dispose() => _client.Dispose();
}
