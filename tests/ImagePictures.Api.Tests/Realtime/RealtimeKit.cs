using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>Shared steps of the real-time tests: connect to the hub, make changes through the API.</summary>
public static class RealtimeKit
{
    public const string Hub = "/hubs/pictures";
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    /// <summary>Connects as <paramref name="userId"/> and waits until the hub has run OnConnected (its groups are joined).</summary>
    public static async Task<RecordingHubConnection> ConnectAsync(PicturesApplication app, string userId, string[]? roles = null)
    {
        var client = await RecordingHubConnection.ConnectAsync(app.Server, Hub, app.Token(userId, roles));
        // Invocations run after OnConnectedAsync, so a completed one means the user's group is joined.
        await client.InvokeAsync("Unwatch", (object)Array.Empty<string>());
        return client;
    }

    public static Task Watch(this RecordingHubConnection client, params string[] userIds) =>
        client.InvokeAsync("Watch", (object)userIds);

    public static Task Unwatch(this RecordingHubConnection client, params string[] userIds) =>
        client.InvokeAsync("Unwatch", (object)userIds);

    public static async Task<PictureJson> UploadAsync(PicturesApplication app, string userId, bool activate = false, byte[]? image = null)
    {
        var response = await app.ClientFor(userId).PostAsync(
            $"/api/users/{userId}/pictures{(activate ? "?activate=true" : "")}", TestUploads.Form(image ?? TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    public static async Task RenameAsync(PicturesApplication app, string userId, Guid pictureId, string title)
    {
        var response = await app.ClientFor(userId).PatchAsJsonAsync($"/api/users/{userId}/pictures/{pictureId}", new { title });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task ActivateAsync(PicturesApplication app, string userId, Guid pictureId)
    {
        var response = await app.ClientFor(userId).PutAsJsonAsync($"/api/users/{userId}/active-picture", new { pictureId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<PictureEvent[]> EventsAsync(PicturesApplication app, string userId, long after = 0, int? limit = null)
    {
        var response = await app.ClientFor(userId).GetAsync($"/api/users/{userId}/events?after={after}{(limit is { } l ? $"&limit={l}" : "")}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureEvent[]>())!;
    }

    /// <summary>
    /// The events this connection received since its previous marker (or since it connected) and before a new one: the
    /// connection watches <paramref name="markerUser"/>, who activates a new picture, and that avatar change is awaited.
    /// Every change committed before this call is in the list or is never sent to this connection, so a test proves that
    /// an event did not come without waiting for a while: PostgreSQL notifies each instance's relay in commit order (one
    /// LISTEN connection per instance, so on every instance of a cluster alike), the relay sends each batch in seq order
    /// and awaits each send before the next, and the connection writes its messages in the order they were sent.
    /// </summary>
    public static async Task<HubMessage[]> ReceivedBeforeMarkerAsync(this RecordingHubConnection client, PicturesApplication app, string markerUser)
    {
        await client.Watch(markerUser);
        var marker = await UploadAsync(app, markerUser, activate: true);
        return await client.ReceivedBeforeAsync(m => m.Target == EventTypes.ActivePictureChanged
            && m.Arguments[0].GetProperty("pictureId") is { ValueKind: JsonValueKind.String } id && id.GetGuid() == marker.Id, Soon);
    }

    /// <summary>The next event of this type, checked to be about <paramref name="userId"/>.</summary>
    public static async Task<PictureEvent> Expect(this RecordingHubConnection client, string type, string userId, TimeSpan? within = null)
    {
        var message = await client.NextAsync(type, within ?? Soon);
        var e = message.Arg<PictureEvent>();
        Assert.Equal(type, e.Type);
        Assert.Equal(userId, e.UserId);
        return e;
    }
}
