using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;

namespace BareHub;

/// <summary>Marker type for WebApplicationFactory&lt;BareHubMarker&gt; (avoids any clash on the name Program).</summary>
public sealed class BareHubMarker { }

public static class BareHubApp
{
    public const string HubPath = "/hubs/pictures";

    /// <summary>Builds the app. <paramref name="configure"/> may tweak the builder (e.g. UseUrls("http://127.0.0.1:0")).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never);
        builder.Services.AddSingleton<BroadcastSequence>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseWebSockets();
        app.MapHub<PicturesHub>(HubPath);

        app.MapGet("/", () => Results.Text("BareHub"));

        // POST /broadcast/{userId}[?count=N][&pictureId=...] -> N x ActivePictureChanged to group "watch:{userId}".
        // An optional JSON body is sent as the event's "picture", so the benchmark can send the service's own event JSON.
        app.MapPost("/broadcast/{userId}", async (string userId, int? count, string? pictureId, HttpRequest request,
            IHubContext<PicturesHub> hub, BroadcastSequence seq) =>
        {
            JsonElement? picture = request.ContentLength > 0 ? await request.ReadFromJsonAsync<JsonElement>() : null;
            var n = Math.Clamp(count ?? 1, 1, 100_000);
            long last = 0;
            for (var i = 0; i < n; i++)
            {
                last = seq.Next();
                var evt = new ActivePictureChangedEvent(
                    Seq: last,
                    Type: "ActivePictureChanged",
                    UserId: userId,
                    PictureId: pictureId ?? "00000000-0000-0000-0000-000000000001",
                    OccurredAt: DateTimeOffset.UtcNow,
                    Picture: picture);
                await hub.Clients.Group(PicturesHub.GroupFor(userId)).SendAsync("ActivePictureChanged", evt);
            }
            return Results.Ok(new { sent = n, lastSeq = last });
        });

        return app;
    }
}

public sealed record ActivePictureChangedEvent(
    long Seq, string Type, string UserId, string PictureId, DateTimeOffset OccurredAt, object? Picture);

public sealed class BroadcastSequence
{
    private long _seq;
    public long Next() => Interlocked.Increment(ref _seq);
}

public sealed class PicturesHub : Hub
{
    public static string GroupFor(string userId) => "watch:" + userId;

    public async Task Watch(string[] userIds)
    {
        foreach (var id in userIds ?? [])
            await Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(id));
    }

    public async Task Unwatch(string[] userIds)
    {
        foreach (var id in userIds ?? [])
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(id));
    }

    /// <summary>Round-trip helper for client tests.</summary>
    public string Echo(string text) => text;
}
