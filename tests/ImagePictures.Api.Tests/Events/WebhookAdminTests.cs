using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests.Events;

/// <summary>The admin routes' refusals, on a service that does not allow private addresses (as in production).</summary>
[Trait("Category", "Api")]
public class WebhookAdminTests(WebhookAdminTests.Application app) : IClassFixture<WebhookAdminTests.Application>
{
    public sealed class Application : PicturesApplication
    {
        public Application() => With("Events:Webhooks:AllowPrivateNetworks", "false");
    }

    [Theory]
    [InlineData("{}", "url")]
    [InlineData("{\"url\":\"\"}", "url")]
    [InlineData("{\"url\":\"not a url\"}", "url")]
    [InlineData("{\"url\":\"/relative/path\"}", "url")]
    [InlineData("{\"url\":\"ftp://example.com/hook\"}", "url")]
    [InlineData("{\"url\":\"file:///etc/passwd\"}", "url")]
    [InlineData("{\"url\":\"javascript:alert(1)\"}", "url")]
    [InlineData("{\"url\":\"http://127.0.0.1:8080/hook\"}", "url")]
    [InlineData("{\"url\":\"http://localhost/hook\"}", "url")]
    [InlineData("{\"url\":\"http://[::1]/hook\"}", "url")]
    [InlineData("{\"url\":\"http://10.1.2.3/hook\"}", "url")]
    [InlineData("{\"url\":\"http://172.20.0.1/hook\"}", "url")]
    [InlineData("{\"url\":\"https://192.168.1.10/hook\"}", "url")]
    [InlineData("{\"url\":\"http://169.254.169.254/latest/meta-data\"}", "url")]
    [InlineData("{\"url\":\"http://[::ffff:127.0.0.1]/hook\"}", "url")]
    [InlineData("{\"url\":\"http://0.0.0.0/hook\"}", "url")]
    [InlineData("{\"url\":\"http://[64:ff9b::a9fe:a9fe]/\"}", "url")]
    [InlineData("{\"url\":\"http://[64:ff9b::a00:1]/\"}", "url")]
    [InlineData("{\"url\":\"http://[::127.0.0.1]/\"}", "url")]
    [InlineData("{\"url\":\"http://[2002:a9fe:a9fe::1]/\"}", "url")]
    [InlineData("{\"url\":\"http://[64:ff9b:1::a00:1]/\"}", "url")]
    [InlineData("{\"url\":\"http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/\"}", "url")]
    [InlineData("{\"url\":\"http://[fec0::1]/\"}", "url")]
    [InlineData("{\"url\":\"https://203.0.113.10/hook\",\"events\":[\"PictureExploded\"]}", "events")]
    [InlineData("{\"url\":\"https://203.0.113.10/hook\",\"events\":[]}", "events")]
    [InlineData("{\"url\":\"https://203.0.113.10/hook\",\"events\":[\"pictureuploaded\"]}", "events")]
    public async Task InvalidRegistrationsAre400NamingTheField(string body, string field)
    {
        var response = await app.Admin().PostAsync("/api/admin/webhooks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.StartsWith(field, problem.GetProperty("detail").GetString());
        Assert.Empty((await app.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/webhooks"))!);
    }

    [Fact]
    public async Task MalformedJsonIs400()
    {
        var response = await app.Admin().PostAsync("/api/admin/webhooks", new StringContent("{\"url\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task APublicAddressIsAcceptedAndTheEndpointCanBeDeleted()
    {
        // Registration sends nothing: no event happens before the endpoint is deleted again.
        var response = await app.Admin().PostAsJsonAsync("/api/admin/webhooks", new { url = "https://203.0.113.10/hooks/pictures", events = new[] { "ActivePictureChanged" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal($"/api/admin/webhooks/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(["ActivePictureChanged"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        var listed = Assert.Single((await app.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/webhooks"))!);
        Assert.Equal(0, listed.GetProperty("pendingCount").GetInt64());
        Assert.False(listed.GetProperty("disabled").GetBoolean());
        Assert.False(listed.TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.NoContent, (await app.Admin().DeleteAsync($"/api/admin/webhooks/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("DELETE", "/api/admin/webhooks/6f9619ff-8b86-d011-b42d-00cf4fc964ff")]
    [InlineData("POST", "/api/admin/webhooks/6f9619ff-8b86-d011-b42d-00cf4fc964ff/enable")]
    [InlineData("DELETE", "/api/admin/webhooks/not-an-id")]
    [InlineData("POST", "/api/admin/webhooks/not-an-id/enable")]
    public async Task AnUnknownIdIs404(string method, string path)
    {
        var response = await app.Admin().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("webhook", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("GET", "/api/admin/webhooks")]
    [InlineData("POST", "/api/admin/webhooks")]
    [InlineData("DELETE", "/api/admin/webhooks/6f9619ff-8b86-d011-b42d-00cf4fc964ff")]
    [InlineData("POST", "/api/admin/webhooks/6f9619ff-8b86-d011-b42d-00cf4fc964ff/enable")]
    public async Task OnlyAdminsMayUseTheRoutes(string method, string path)
    {
        HttpRequestMessage Request() => new(new HttpMethod(method), path) { Content = JsonContent.Create(new { url = "https://203.0.113.10/hook" }) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).SendAsync(Request())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("jdoe").SendAsync(Request())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Provisioner().SendAsync(Request())).StatusCode);
    }
}
