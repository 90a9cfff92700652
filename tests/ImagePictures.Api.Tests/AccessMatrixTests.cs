using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using static ImagePictures.Api.Tests.Infrastructure.Callers;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Every route of a user's pictures against every kind of caller, one expected status per cell.
/// Each cell gets a fresh owner with one picture, so cells do not disturb each other.
/// Add a row whenever a route is added.
/// </summary>
[Trait("Category", "Api")]
public class AccessMatrixTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    // route, then the expected status for owner, other, admin, provision; every forged caller is 401, and
    // so is the caller without a token, except where AnonymousRows says otherwise.
    private static readonly (string Route, int Owner, int Other, int Admin, int Provision)[] Table =
    [
        ("GET /api/users/{u}/pictures", 200, 403, 200, 403),
        ("POST /api/users/{u}/pictures", 201, 403, 201, 403),
        ("GET /api/users/{u}/pictures/{p}", 200, 403, 200, 403),
        ("PATCH /api/users/{u}/pictures/{p}", 200, 403, 200, 403),
        ("DELETE /api/users/{u}/pictures/{p}", 200, 403, 200, 403),
        ("GET /api/users/{u}/active-picture", 200, 403, 200, 403),
        ("PUT /api/users/{u}/active-picture", 200, 403, 200, 403),
        ("POST /api/users/{u}/default-picture", 200, 403, 200, 200),
        ("DELETE /api/users/{u}", 200, 403, 200, 200),
        ("GET /api/users/{u}/events", 200, 403, 200, 403),
        // The hub: any valid token may connect (each connection joins its own user's group); no token
        // connects anonymously (watch only, Realtime:AnonymousWatch), see AnonymousRows.
        ("POST /hubs/pictures/negotiate?negotiateVersion=1", 200, 200, 200, 200),
        // Trash: {p} is trashed first.
        ("GET /api/users/{u}/trash", 200, 403, 200, 403),
        ("POST /api/users/{u}/trash/{p}/restore", 200, 403, 200, 403),
        ("DELETE /api/users/{u}/trash/{p}", 204, 403, 204, 403),
        ("DELETE /api/users/{u}/trash", 200, 403, 200, 403),
        // Two-step uploads are the caller's own: anyone signed in may stage; {s} is staged by the owner and
        // invisible (404) to everybody else, admins included.
        ("POST /api/uploads", 201, 201, 201, 201),
        ("GET /api/uploads/{s}/preview", 200, 404, 404, 404),
        ("POST /api/uploads/{s}/commit", 201, 404, 404, 404),
        ("DELETE /api/uploads/{s}", 204, 404, 404, 404),
        // Admin: role admin only.
        ("GET /api/admin/uploads", 403, 403, 200, 403),
        ("POST /api/admin/uploads/cleanup", 403, 403, 200, 403),
        ("GET /api/admin/jobs", 403, 403, 200, 403),
        ("POST /api/admin/jobs/temp-cleanup/trigger", 403, 403, 202, 403),
        ("POST /api/admin/jobs/temp-cleanup/pause", 403, 403, 204, 403),
        ("POST /api/admin/jobs/temp-cleanup/resume", 403, 403, 204, 403),
        ("GET /api/admin/jobs/temp-cleanup/runs", 403, 403, 200, 403),
        ("GET /admin", 403, 403, 200, 403),
    ];

    // The routes a caller without a token may use: the hub, to watch avatars (and only that, see AnonymousWatchTests).
    private static readonly Dictionary<string, int> AnonymousRows = new()
    {
        ["POST /hubs/pictures/negotiate?negotiateVersion=1"] = 200,
    };

    public static TheoryData<string, string, int> Cells()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var row in Table)
        {
            data.Add(row.Route, Owner, row.Owner);
            data.Add(row.Route, Other, row.Other);
            data.Add(row.Route, Admin, row.Admin);
            data.Add(row.Route, Provision, row.Provision);
            foreach (var forged in Forged)
                data.Add(row.Route, forged, forged == Anonymous ? AnonymousRows.GetValueOrDefault(row.Route, 401) : 401);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task EachCallerGetsExactlyTheExpectedStatus(string route, string caller, int expected)
    {
        var owner = $"m-{Guid.NewGuid():N}"[..20];
        var created = await app.Provisioner().PostAsync($"/api/users/{owner}/default-picture", null);
        var picture = (await created.Content.ReadFromJsonAsync<PictureJson>())!;

        if (route.Contains("/trash/{p}"))
            Assert.Equal(HttpStatusCode.OK, (await app.Admin().DeleteAsync($"/api/users/{owner}/pictures/{picture.Id}")).StatusCode);
        var staged = "";
        if (route.Contains("{s}"))
        {
            var stage = await app.ClientFor(owner).PostAsync("/api/uploads", TestUploads.Form(TestUploads.DefaultPng()));
            Assert.Equal(HttpStatusCode.Created, stage.StatusCode);
            staged = (await stage.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        }

        var (method, path) = (route.Split(' ')[0], route.Split(' ')[1].Replace("{u}", owner).Replace("{p}", picture.Id.ToString()).Replace("{s}", staged));
        var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = BodyFor(route, picture) };
        var response = await Callers.Client(app, caller, owner).SendAsync(request);

        Assert.True(expected == (int)response.StatusCode, $"{route} as {caller}: expected {expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (expected >= 400) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("GET", "/api/users/bad!id/pictures")]
    [InlineData("GET", "/api/users/.hidden/pictures")]
    [InlineData("GET", "/api/users/me/pictures/not-a-uuid")]
    [InlineData("GET", "/avatars/..%2F..%2Fetc")]
    [InlineData("GET", "/pictures/not-a-uuid/64")]
    public async Task MalformedRouteValuesAre400(string method, string path)
    {
        var response = await app.ClientFor("olga").SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("GET", "/api/users/me/pictures/{x}")]
    [InlineData("PATCH", "/api/users/me/pictures/{x}")]
    [InlineData("DELETE", "/api/users/me/pictures/{x}")]
    [InlineData("PUT", "/api/users/me/active-picture")]
    [InlineData("GET", "/api/users/me/active-picture")]
    public async Task UnknownPicturesAre404(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{x}", Guid.NewGuid().ToString()));
        if (method is "PATCH") request.Content = JsonContent.Create(new { title = "x" });
        if (method is "PUT") request.Content = JsonContent.Create(new { pictureId = Guid.NewGuid() });
        var response = await app.ClientFor("nobody-has-pictures").SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnotherUsersPictureIdIs404EvenForItsRealOwnerRouteMismatch()
    {
        var created = await app.Provisioner().PostAsync("/api/users/pat/default-picture", null);
        var picture = (await created.Content.ReadFromJsonAsync<PictureJson>())!;
        // quinn may not see pat's picture through quinn's own route either.
        Assert.Equal(HttpStatusCode.NotFound, (await app.ClientFor("quinn").GetAsync($"/api/users/me/pictures/{picture.Id}")).StatusCode);
    }

    private static HttpContent? BodyFor(string route, PictureJson picture) => route switch
    {
        "POST /api/users/{u}/pictures" => TestUploads.Form(TestUploads.DefaultPng()),
        "PATCH /api/users/{u}/pictures/{p}" => JsonContent.Create(new { title = "renamed" }),
        "PUT /api/users/{u}/active-picture" => JsonContent.Create(new { pictureId = picture.Id }),
        "POST /api/uploads" => TestUploads.Form(TestUploads.DefaultPng()),
        "POST /api/uploads/{s}/commit" => JsonContent.Create(new { activate = false }),
        "POST /api/admin/uploads/cleanup" => JsonContent.Create(new { action = "list" }),
        _ => null,
    };
}
