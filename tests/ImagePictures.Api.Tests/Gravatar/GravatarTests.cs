using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Gravatar;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Api.Tests.Realtime;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.Gravatar;

/// <summary>/avatar/{hash} as forges and Gravatar clients call it, and the addresses behind it.</summary>
[Trait("Category", "Api")]
public class GravatarTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static string Md5(string email) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));
    public static string Sha256(string email) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));

    private async Task<PictureJson> UserWithRedPicture(string userId, params string[] emails)
    {
        var put = await app.ClientFor(userId).PutAsJsonAsync($"/api/users/{userId}/emails", new { emails });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var img = TestImages.Split(300, 300, TestImages.Red, TestImages.Red);
        var upload = await app.ClientFor(userId).PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        return (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    private async Task<HttpResponseMessage> Get(string url, string? accept = null, string? etag = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        if (etag is not null) request.Headers.IfNoneMatch.ParseAdd(etag);
        return await app.CreateClient().SendAsync(request);
    }

    private static async Task AssertRedSquare(HttpResponseMessage response, int size)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal((size, size), (TestImages.Size(bytes).W, TestImages.Size(bytes).H));
        TestImages.AssertColour(TestImages.Red, TestImages.Pixel(TestImages.Decode(bytes), size / 2, size / 2));
    }

    [Fact]
    public async Task GitLabsAndGiteasUrlTemplatesFetchTheUsersPicture()
    {
        const string email = "  Ada.Lovelace@Example.COM ";
        await UserWithRedPicture("gl-ada", email);
        // GitLab: gravatar.plain_url = "http://…/avatar/%{hash}?s=%{size}&d=identicon" (hash: MD5 of the lower-cased address).
        var gitlab = "/avatar/%{hash}?s=%{size}&d=identicon".Replace("%{hash}", Md5(email)).Replace("%{size}", "48");
        await AssertRedSquare(await Get(gitlab), 48);
        // Gitea/Forgejo: GRAVATAR_SOURCE = "http://…/avatar/", then {hash}?d=identicon&s={size}.
        var gitea = "/avatar/" + Md5(email) + "?d=identicon&s=" + 290;
        await AssertRedSquare(await Get(gitea), 290);
    }

    [Fact]
    public async Task Md5Sha256AndUpperCaseHashesFindTheSameUser()
    {
        const string email = "hash.cases@example.com";
        var picture = await UserWithRedPicture("gl-cases", email);
        foreach (var hash in new[] { Md5(email), Sha256(email), Md5(email).ToUpperInvariant(), Sha256(email).ToUpperInvariant() })
        {
            var response = await Get($"/avatar/{hash}?s=64&d=404");
            await AssertRedSquare(response, 64);
            Assert.Contains(picture.ContentHash[..16], response.Headers.ETag!.Tag);
        }
    }

    [Fact]
    public async Task AnExtensionForcesTheFormatAndNoneNegotiates()
    {
        const string email = "formats@example.com";
        await UserWithRedPicture("gl-formats", email);
        var hash = Md5(email);
        foreach (var (ext, type) in new[] { (".jpg", "image/jpeg"), (".jpeg", "image/jpeg"), (".png", "image/png"), (".webp", "image/webp") })
        {
            var response = await Get($"/avatar/{hash}{ext}?s=100", accept: "image/webp,*/*");
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Empty(response.Headers.Vary); // forced: no negotiation
            await AssertRedSquare(response, 100);
        }
        var negotiated = await Get($"/avatar/{hash}?s=100", accept: "image/avif,image/webp,*/*");
        Assert.Equal("image/webp", negotiated.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", negotiated.Headers.Vary);
        Assert.Equal("image/jpeg", (await Get($"/avatar/{hash}?s=100")).Content.Headers.ContentType?.MediaType);

        var gif = await Get($"/avatar/{hash}.gif");
        Assert.Equal(HttpStatusCode.BadRequest, gif.StatusCode);
        Assert.Equal("application/problem+json", gif.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("s=0", 80)]
    [InlineData("s=-1", 80)]
    [InlineData("s=abc", 80)]
    [InlineData("s=", 80)]
    [InlineData("", 80)]
    [InlineData("s=1", 1)]
    [InlineData("s=512", 512)]
    [InlineData("s=513", 512)]
    [InlineData("s=99999999999", 512)]
    [InlineData("size=37", 37)]
    [InlineData("s=33&size=99", 33)]
    public async Task EverySizeEdgeCase(string query, int expected)
    {
        const string email = "sizes@example.com";
        if ((await Get($"/avatar/{Md5(email)}?d=404")).StatusCode == HttpStatusCode.NotFound) await UserWithRedPicture("gl-sizes", email);
        await AssertRedSquare(await Get($"/avatar/{Md5(email)}?{query}"), expected);
        // The same sizes for a generated default.
        var generated = await Get($"/avatar/{Md5("nobody-" + query + "@example.com")}?d=identicon&{query}");
        Assert.Equal(expected, TestImages.Size(await generated.Content.ReadAsByteArrayAsync()).W);
    }

    [Fact]
    public async Task CachingHeadersAndConditionalRequests()
    {
        const string email = "headers@example.com";
        await UserWithRedPicture("gl-headers", email);
        foreach (var url in new[] { $"/avatar/{Md5(email)}.png?s=70", $"/avatar/{Md5("unknown-headers@example.com")}.png?s=70&d=retro" })
        {
            var response = await Get(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.False(response.Headers.ETag!.IsWeak);
            Assert.Equal(HttpStatusCode.NotModified, (await Get(url, etag: response.Headers.ETag.Tag)).StatusCode);
            var head = await app.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(response.Headers.ETag, head.Headers.ETag);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task EachDefaultForAnUnknownHash()
    {
        var hash = Md5("never-registered@example.com");
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"/avatar/{hash}?d=404")).StatusCode);

        async Task<byte[]> Png(string d) { var r = await Get($"/avatar/{hash}.png?s=64&d={d}"); Assert.Equal(HttpStatusCode.OK, r.StatusCode); return await r.Content.ReadAsByteArrayAsync(); }
        var identicon = await Png("identicon");
        foreach (var alias in new[] { "monsterid", "wavatar", "robohash" }) Assert.Equal(identicon, await Png(alias));
        Assert.Equal(await Png("mp"), await Png("mm"));
        var styles = new[] { "mp", "identicon", "retro", "initials", "color", "blank" }.Select(d => Png(d).Result).ToList();
        Assert.Equal(styles.Count, styles.Select(Convert.ToBase64String).Distinct().Count());
        Assert.All(styles, png => Assert.Equal(64, TestImages.Size(png).W));
        Assert.Equal(4, TestImages.Size(await Png("blank")).Bands); // transparent

        // initials from name=, else initials=; different letters, different image.
        Assert.NotEqual(await Png("initials&name=Ada%20Lovelace"), await Png("initials&name=Grace%20Hopper"));
        Assert.Equal(await Png("initials&name=Ada%20Lovelace"), await Png("initials&initials=AL"));

        // A redirect to a host not allowed (none is, by default) is answered as if d were missing: no open redirect.
        var redirect = await Get($"/avatar/{hash}?s=64&d={Uri.EscapeDataString("https://evil.example/x.png")}");
        Assert.Equal(HttpStatusCode.OK, redirect.StatusCode);
        Assert.Null(redirect.Headers.Location);
        Assert.Equal((await Get($"/avatar/{hash}?s=64")).Headers.ETag, redirect.Headers.ETag);
        // Missing d: Avatars:DefaultStyle, the copied default picture by default.
        Assert.StartsWith("\"default-", (await Get($"/avatar/{hash}?s=64")).Headers.ETag!.Tag);
    }

    [Fact]
    public async Task ForceDefaultAnswersTheDefaultEvenWithAPicture()
    {
        const string email = "forced@example.com";
        await UserWithRedPicture("gl-forced", email);
        await AssertRedSquare(await Get($"/avatar/{Md5(email)}?s=64&d=identicon"), 64);
        foreach (var f in new[] { "f=y", "forcedefault=y" })
        {
            var forced = await Get($"/avatar/{Md5(email)}?s=64&d=identicon&{f}&r=x&unknown=1");
            Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
            Assert.StartsWith("\"g-", forced.Headers.ETag!.Tag);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"/avatar/{Md5(email)}?d=404&f=y")).StatusCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcde")] // 31
    [InlineData("0123456789abcdef0123456789abcdefa")] // 33
    [InlineData("g123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")] // 65
    public async Task AMalformedHashIs400(string hash)
    {
        var response = await Get($"/avatar/{hash}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("MD5", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnOddSizeIsResizedOnceAndThenServedFromTheVariantCache()
    {
        const string email = "odd-size@example.com";
        await UserWithRedPicture("gl-odd", email);
        var response = await Get($"/avatar/{Md5(email)}.jpg?s=77");
        await AssertRedSquare(response, 77);
        Assert.True(app.Services.GetRequiredService<VariantCache>().TryGet(response.Headers.ETag!.Tag, out var kept));
        Assert.Equal(await response.Content.ReadAsByteArrayAsync(), kept);
    }

    [Fact]
    public async Task AddressesAreValidatedListedRemovedAndNeverTakenFromAnotherUser()
    {
        var owner = app.ClientFor("gl-owner");
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { "One@Example.com", "two@example.com" } })).StatusCode);
        var listed = await owner.GetFromJsonAsync<List<EmailAddresses.EmailJson>>("/api/users/me/emails");
        Assert.Equal(new[] { Sha256("one@example.com"), Sha256("two@example.com") }.Order(), listed!.Select(e => e.Sha256).Order());
        Assert.Contains(listed, e => e.Md5 == Md5("one@example.com"));
        Assert.DoesNotContain("@", JsonSerializer.Serialize(listed));

        // Held by another user: 409, without naming that user; the address stays where it was.
        var thief = await app.ClientFor("gl-thief").PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { "ONE@example.com " } });
        Assert.Equal(HttpStatusCode.Conflict, thief.StatusCode);
        Assert.DoesNotContain("gl-owner", await thief.Content.ReadAsStringAsync());
        Assert.Empty((await app.ClientFor("gl-thief").GetFromJsonAsync<List<EmailAddresses.EmailJson>>("/api/users/me/emails"))!);

        // Moved: the owner lets go, then the other user may take it.
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/users/me/emails/{Md5("one@example.com").ToUpperInvariant()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.DeleteAsync($"/api/users/me/emails/{Md5("one@example.com")}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-thief").PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { "one@example.com" } })).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { "not an address" } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PutAsJsonAsync("/api/users/me/emails", new { emails = Enumerable.Range(0, 11).Select(i => $"u{i}@example.com") })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PutAsJsonAsync("/api/users/me/emails", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.DeleteAsync("/api/users/me/emails/xyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync("/api/users/me/emails", new { emails = Enumerable.Range(0, 10).Select(i => $"u{i}@example.com") })).StatusCode);

        // Only the owner, an admin or the sign-up service.
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("gl-stranger").GetAsync("/api/users/gl-owner/emails")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("gl-stranger").PutAsJsonAsync("/api/users/gl-owner/emails", new { emails = Array.Empty<string>() })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Admin().GetAsync("/api/users/gl-owner/emails")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Provisioner().PutAsJsonAsync("/api/users/gl-provisioned/emails", new { emails = new[] { "p@example.com" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/api/users/gl-owner/emails")).StatusCode);
    }

    [Fact]
    public async Task AccountDeletionRemovesTheHashes()
    {
        const string email = "leaving@example.com";
        await UserWithRedPicture("gl-leaving", email);
        await AssertRedSquare(await Get($"/avatar/{Md5(email)}?s=64&d=404"), 64);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-leaving").DeleteAsync("/api/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"/avatar/{Md5(email)}?s=64&d=404")).StatusCode);
        Assert.Empty((await app.ClientFor("gl-leaving").GetFromJsonAsync<List<EmailAddresses.EmailJson>>("/api/users/me/emails"))!);
        // The address is free again.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-arriving").PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { email } })).StatusCode);
    }

    [Fact]
    public async Task ChangesReachTheHashRouteAtOnceAndTheOwnerHearsEmailsChanged()
    {
        const string email = "live@example.com";
        await using var hub = await RecordingHubConnection.ConnectAsync(app.Server, "/hubs/pictures", app.Token("gl-live"));
        await hub.InvokeAsync("Watch", new object[] { Array.Empty<string>() }); // answered after OnConnectedAsync: the group is joined
        await using var stranger = await RecordingHubConnection.ConnectAsync(app.Server, "/hubs/pictures", app.Token("gl-live-stranger"));
        await stranger.InvokeAsync("Watch", new object[] { new[] { "gl-live" } });

        var picture = await UserWithRedPicture("gl-live", email);
        var changed = await hub.NextAsync(EventTypes.EmailsChanged, Patience);
        Assert.DoesNotContain("@", changed.Arguments[0].GetRawText());
        Assert.Equal(Sha256(email), changed.Arguments[0].GetProperty("emails")[0].GetProperty("sha256").GetString());
        Assert.Equal(Md5(email), changed.Arguments[0].GetProperty("emails")[0].GetProperty("md5").GetString());
        await hub.NextAsync(EventTypes.ActivePictureChanged, Patience);
        var url = $"/avatar/{Md5(email)}?s=64&d=404";
        Assert.Contains(picture.ContentHash[..16], (await Get(url)).Headers.ETag!.Tag);

        // Trash: at once the default; restore and activate: at once the picture again.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-live").DeleteAsync($"/api/users/me/pictures/{picture.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-live").PostAsync($"/api/users/me/trash/{picture.Id}/restore", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-live").PutAsJsonAsync("/api/users/me/active-picture", new { pictureId = picture.Id })).StatusCode);
        await AssertRedSquare(await Get(url), 64);

        // A new upload: the new picture at once.
        using var img = TestImages.Split(300, 300, TestImages.Blue, TestImages.Blue);
        var upload = await app.ClientFor("gl-live").PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)));
        var blue = (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Contains(blue.ContentHash[..16], (await Get(url)).Headers.ETag!.Tag);

        // Removing the address: at once unknown.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gl-live").PutAsJsonAsync("/api/users/me/emails", new { emails = Array.Empty<string>() })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(url)).StatusCode);
        Assert.Empty((await hub.NextAsync(EventTypes.EmailsChanged, Patience)).Arguments[0].GetProperty("emails").EnumerateArray());
        // EmailsChanged goes to the owner only (the watcher heard the avatar changes, never the addresses).
        Assert.Contains(stranger.Received, m => m.Target == EventTypes.ActivePictureChanged);
        Assert.DoesNotContain(stranger.Received, m => m.Target == EventTypes.EmailsChanged);
    }

    [Fact]
    public async Task AnOlderChangeOfTheAddressesDeliveredLateDoesNotPutTheOlderSetBack()
    {
        const string user = "gl-late-order", email = "late-order@example.com";
        var index = app.Services.GetRequiredService<EmailHashIndex>();
        await Wait.Eventually(() => index.IndexComplete, "the e-mail hash index is loaded");
        await UserWithRedPicture(user, email);
        await app.RelayCaughtUpAsync();
        await using var conn = new Npgsql.NpgsqlConnection(app.ConnectionString);
        var newest = await Dapper.SqlMapper.ExecuteScalarAsync<long>(conn,
            "SELECT max(seq) FROM events WHERE user_id = @user AND type = 'EmailsChanged'", new { user });

        // The relay of this instance delivers an older change of the set (before the address was registered)
        // after this instance applied the newer one directly: it is passed over.
        index.Apply(new PictureEvent(newest - 1, EventTypes.EmailsChanged, user, null, DateTime.UtcNow, null, []));
        Assert.Equal(user, await index.FindAsync(Md5(email), default));
        await AssertRedSquare(await Get($"/avatar/{Md5(email)}?s=64&d=404"), 64);

        // A newer change is applied.
        index.Apply(new PictureEvent(newest + 1, EventTypes.EmailsChanged, user, null, DateTime.UtcNow, null, []));
        Assert.Null(await index.FindAsync(Md5(email), default));
    }

    [Fact]
    public async Task NoDatabaseQueryPerRequestOnceTheIndexesAreLoaded()
    {
        const string email = "hot@example.com";
        // The relay's invalidations of this user come before its hub events: once heard, nothing more is pending.
        await using var hub = await RecordingHubConnection.ConnectAsync(app.Server, "/hubs/pictures", app.Token("gl-hot"));
        await hub.InvokeAsync("Watch", new object[] { Array.Empty<string>() }); // answered after OnConnectedAsync: the group is joined
        await UserWithRedPicture("gl-hot", email);
        await hub.NextAsync(EventTypes.EmailsChanged, Patience);
        await hub.NextAsync(EventTypes.ActivePictureChanged, Patience);
        var emails = app.Services.GetRequiredService<EmailHashIndex>();
        var avatars = app.Services.GetRequiredService<ActiveAvatarCache>();
        await Wait.Eventually(() => emails.IndexComplete && avatars.IndexComplete, "the e-mail hash index and the avatar index are loaded");
        await Get($"/avatar/{Md5(email)}?s=64"); // the user's picture row, once
        var (emailQueries, avatarQueries) = (emails.Queries, avatars.Queries);
        for (var i = 0; i < 100; i++)
        {
            await AssertRedSquare(await Get($"/avatar/{Md5(email)}?s=64"), 64);
            var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(i % 2 == 0 ? 16 : 32));
            Assert.Equal(HttpStatusCode.NotFound, (await Get($"/avatar/{random}?d=404")).StatusCode);
        }
        Assert.Equal((emailQueries, avatarQueries), (emails.Queries, avatars.Queries));
    }

    [Fact]
    public async Task PerlsGravatarUrlClientFetchesFromTheService()
    {
        const string email = "Perl.Monk@example.com";
        await UserWithRedPicture("gl-perl", email);
        var url = await Perl($"print gravatar_url(email => '{email}', base => 'http://localhost/avatar', size => 64, default => 'identicon')");
        var uri = new Uri(url);
        Assert.Contains(Md5(email), uri.AbsolutePath);
        await AssertRedSquare(await Get(uri.PathAndQuery), 64);
        // Its https default base with an unknown address: the identicon it asked for.
        var unknown = new Uri(await Perl("print gravatar_url(email => 'nobody@example.com', default => 'identicon', size => 40)"));
        var response = await Get(unknown.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("\"g-", response.Headers.ETag!.Tag);
    }

    private static async Task<string> Perl(string script)
    {
        var start = new ProcessStartInfo("perl", ["-MGravatar::URL", "-e", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var perl = Process.Start(start)!;
        var output = await perl.StandardOutput.ReadToEndAsync();
        await perl.WaitForExitAsync();
        Assert.True(perl.ExitCode == 0, await perl.StandardError.ReadToEndAsync());
        return output.Trim();
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheNewRoutes()
    {
        using var doc = JsonDocument.Parse(await app.CreateClient().GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/avatar/{hash}", out var avatarPath), string.Join(", ", paths.EnumerateObject().Select(p => p.Name)));
        var avatar = avatarPath.GetProperty("get");
        var parameters = avatar.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Superset(new HashSet<string?> { "hash", "s", "size", "d", "default", "f", "forcedefault", "r", "rating", "name", "initials" }, parameters.ToHashSet());
        var ok = avatar.GetProperty("responses").GetProperty("200").GetProperty("content");
        foreach (var type in new[] { "image/jpeg", "image/png", "image/webp" }) Assert.True(ok.TryGetProperty(type, out _), type);
        Assert.True(avatar.GetProperty("responses").TryGetProperty("404", out _));
        var emails = paths.GetProperty("/api/users/{userId}/emails");
        Assert.True(emails.TryGetProperty("put", out _) && emails.TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/users/{userId}/emails/{hash}").TryGetProperty("delete", out _));
    }

    [Fact]
    public async Task TheUserAvatarRouteTakesTheGeneratedDefaultsToo()
    {
        foreach (var d in new[] { "mp", "identicon", "retro", "initials", "color", "blank" })
        {
            var first = await Get($"/avatars/gl-generated-{d}?size=64&default={d}");
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("image/png", first.Content.Headers.ContentType?.MediaType);
            Assert.Equal(64, TestImages.Size(await first.Content.ReadAsByteArrayAsync()).W);
            var again = await Get($"/avatars/gl-generated-{d}?size=64&default={d}");
            Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await again.Content.ReadAsByteArrayAsync());
        }
        Assert.NotEqual((await Get("/avatars/gl-a?size=64&default=identicon")).Headers.ETag, (await Get("/avatars/gl-b?size=64&default=identicon")).Headers.ETag);
        Assert.Equal(HttpStatusCode.NotFound, (await Get("/avatars/gl-a?default=404")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Get("/avatars/gl-a?default=sparkles")).StatusCode);
    }
}

/// <summary>Avatars:DefaultStyle and Avatars:AllowedDefaultRedirectHosts set.</summary>
public sealed class StyledAvatarsApplication : PicturesApplication
{
    public StyledAvatarsApplication() => With("Avatars:DefaultStyle", "identicon").With("Avatars:AllowedDefaultRedirectHosts:0", "img.example.org")
        .With("Pictures:Sizes:0", "32").With("Pictures:Sizes:1", "64");
}

[Trait("Category", "Api")]
public class GravatarSettingsTests(StyledAvatarsApplication app) : IClassFixture<StyledAvatarsApplication>
{
    [Fact]
    public async Task TheConfiguredStyleIsTheDefaultOfBothRoutesAndOnlyAllowedHostsAreRedirectedTo()
    {
        var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var hash = GravatarTests.Md5("styled@example.com");
        Assert.StartsWith("\"g-", (await client.GetAsync($"/avatar/{hash}?s=50")).Headers.ETag!.Tag);
        Assert.StartsWith("\"g-", (await client.GetAsync("/avatars/styled-user?size=64")).Headers.ETag!.Tag);
        Assert.StartsWith("\"default-", (await client.GetAsync("/avatars/styled-user?size=64&default=image")).Headers.ETag!.Tag);

        var allowed = await client.GetAsync($"/avatar/{hash}?d={Uri.EscapeDataString("https://img.example.org/fallback.png")}");
        Assert.Equal(HttpStatusCode.Found, allowed.StatusCode);
        Assert.Equal("https://img.example.org/fallback.png", allowed.Headers.Location?.ToString());
        var other = await client.GetAsync($"/avatar/{hash}?s=50&d={Uri.EscapeDataString("https://img.example.org.evil.example/x.png")}");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.StartsWith("\"g-", other.Headers.ETag!.Tag); // as if d were missing: the configured identicon
    }

    [Fact]
    public async Task ASizeAboveTheLargestStoredVariantIsMadeFromTheMaster()
    {
        var put = await app.ClientFor("styled-master").PutAsJsonAsync("/api/users/me/emails", new { emails = new[] { "master@example.com" } });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var img = TestImages.Split(300, 300, TestImages.Red, TestImages.Red);
        Assert.Equal(HttpStatusCode.Created, (await app.ClientFor("styled-master").PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)))).StatusCode);
        var response = await app.CreateClient().GetAsync($"/avatar/{GravatarTests.Md5("master@example.com")}.jpg?s=300");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal((300, 300), (TestImages.Size(bytes).W, TestImages.Size(bytes).H));
        TestImages.AssertColour(TestImages.Red, TestImages.Pixel(TestImages.Decode(bytes), 150, 150));
        var unknown = await app.CreateClient().GetAsync($"/avatar/{GravatarTests.Md5("nobody-master@example.com")}.png?s=400&d=image");
        Assert.Equal(400, TestImages.Size(await unknown.Content.ReadAsByteArrayAsync()).W); // the copied default picture, from its master
    }
}
