using System.Net;
using System.Net.Http.Headers;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Alone, not beside other test classes: the issuer is a second web host in this process, and it must
/// not be built while another test's WebApplicationFactory is waiting for the service's host.
/// </summary>
[CollectionDefinition(nameof(ProductionAuthCollection), DisableParallelization = true)]
public sealed class ProductionAuthCollection;

/// <summary>The service in the Production environment with tokens from a real OIDC issuer (discovery + JWKS over HTTP).</summary>
[Collection(nameof(ProductionAuthCollection))]
[Trait("Category", "Api")]
public class ProductionAuthTests : ProductionServiceTest
{
    private HttpClient Client(string? token) => App.ClientWithToken(token);

    [Fact]
    public async Task Rs256TokensFromTheIssuerAreAccepted()
    {
        var response = await Client(Issuer.Token("oidc-alice")).GetAsync("/api/users/me/pictures");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(Issuer.Token("oidc-alice")).GetAsync("/api/users/oidc-bob/pictures")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client(Issuer.Token("oidc-root", ["admin"])).GetAsync("/api/users/oidc-bob/pictures")).StatusCode);
    }

    [Fact]
    public async Task ARotatedSigningKeyIsPickedUpWithoutARestart()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client(Issuer.Token("oidc-rotor")).GetAsync("/api/users/me/pictures")).StatusCode);
        var before = Issuer.CurrentKeyId;
        var fetches = Issuer.JwksFetches;
        Issuer.Rotate();
        Assert.NotEqual(before, Issuer.CurrentKeyId);

        // The first token with the unknown kid makes the service fetch the JWKS again; the refresh may
        // complete in the background, so a few tries are allowed.
        await Eventually(async () => (await Client(Issuer.Token("oidc-rotor")).GetAsync("/api/users/me/pictures")).StatusCode == HttpStatusCode.OK,
            "a token signed with the new key was accepted");
        Assert.True(Issuer.JwksFetches > fetches, "the JWKS was not fetched again");
    }

    [Fact]
    public async Task Hs256AlgNoneWrongIssuerAndWrongAudienceAre401()
    {
        var forged = new Dictionary<string, string>
        {
            ["HS256"] = Issuer.Hs256Token("oidc-mallory"),
            ["alg none"] = Issuer.AlgNoneToken("oidc-mallory"),
            ["wrong issuer"] = Issuer.Token("oidc-mallory", issuer: "https://evil.example"),
            ["wrong audience"] = Issuer.Token("oidc-mallory", audience: "another-service"),
            ["expired"] = Issuer.Token("oidc-mallory", lifetime: TimeSpan.FromMinutes(-10)),
        };
        foreach (var (kind, token) in forged)
        {
            var response = await Client(token).GetAsync("/api/users/oidc-mallory/pictures");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task DevelopmentRoutesDoNotExist()
    {
        var client = Client(null);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/dev/token",
            new StringContent("{\"userId\":\"alice\"}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/sample/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/sample/index.html")).StatusCode);
    }

    [Fact]
    public async Task AdminSignsInWithAnIssuerToken()
    {
        var client = Client(null);
        var refused = await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["token"] = Issuer.Token("oidc-user") }));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["token"] = Issuer.Hs256Token("oidc-root") }))).StatusCode);

        var signIn = await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["token"] = Issuer.Token("oidc-root", ["admin"]) }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ip_admin=", StringComparison.Ordinal));
        var dashboard = new HttpRequestMessage(HttpMethod.Get, "/admin");
        dashboard.Headers.Add("Cookie", cookie.Split(';')[0]);
        dashboard.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var page = await client.SendAsync(dashboard);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task OnlyTheListedOriginsMayCallTheApiFromAPageAndTheClientScriptsAnswerEveryOrigin()
    {
        var client = Client(null);
        HttpRequestMessage Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/api/uploads");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return request;
        }

        // The listed origin: the preflight for a bearer token and a multipart body is allowed, without credentials.
        var allowed = await client.SendAsync(Preflight(AllowedOrigin));
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(AllowedOrigin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("authorization", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("POST", allowed.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.False(allowed.Headers.Contains("Access-Control-Allow-Credentials"));

        // Another origin gets no CORS headers, so its page cannot read anything.
        var refused = await client.SendAsync(Preflight("https://elsewhere.example"));
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        // A real call from the listed origin: allowed, and the headers a client reads are exposed.
        var call = new HttpRequestMessage(HttpMethod.Get, "/api/users/me/pictures");
        call.Headers.Add("Origin", AllowedOrigin);
        call.Headers.Authorization = new("Bearer", Issuer.Token("oidc-cors"));
        var answer = await client.SendAsync(call);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(AllowedOrigin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var exposed = answer.Headers.GetValues("Access-Control-Expose-Headers").Single();
        Assert.Contains("Location", exposed);
        Assert.Contains("Retry-After", exposed);

        // The client scripts are for every origin.
        foreach (var script in new[] { "/client/avatar-editor.js", "/client/live-avatar.js" })
        {
            var response = await client.GetAsync(script);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Contains("customElements.define(\"avatar-editor\"", await client.GetStringAsync("/client/avatar-editor.js"));
    }

    private const string AllowedOrigin = "https://app.example.com";

    protected override void Configure(OidcApplication app) => app.With("Cors:AllowedOrigins:0", AllowedOrigin);
}
