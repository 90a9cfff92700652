using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Gravatar;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace ImagePictures.Api.Tests.Gravatar;

/// <summary>
/// Avatars:TrustVerifiedEmailClaim with tokens from a real OIDC issuer (discovery + JWKS over HTTP), as
/// in production. In the production-auth collection: the issuer is a second web host in this process.
/// </summary>
[Collection(nameof(ProductionAuthCollection))]
[Trait("Category", "Api")]
public class VerifiedEmailClaimTests : ProductionServiceTest
{
    private HttpClient As(string userId, string email, object verified) => App.ClientWithToken(Issuer.Token(userId,
        extraClaims: new Dictionary<string, object> { ["email"] = email, ["email_verified"] = verified }));

    private async Task<List<EmailAddresses.EmailJson>> EmailsOf(HttpClient client) =>
        (await client.GetFromJsonAsync<List<EmailAddresses.EmailJson>>("/api/users/me/emails"))!;

    [Fact]
    public async Task AVerifiedAddressIsRegisteredOnTheFirstRequestAndNeverTakenFromItsHolder()
    {
        const string email = "Gina@Example.com";
        var gina = As("oidc-gina", email, true);
        Assert.Equal(HttpStatusCode.OK, (await gina.GetAsync("/api/users/me/pictures")).StatusCode);
        var registered = Assert.Single(await EmailsOf(gina));
        Assert.Equal(GravatarTests.Md5(email), registered.Md5);
        Assert.Equal(GravatarTests.Sha256(email), registered.Sha256);

        // The hash route finds her picture at once.
        using var img = TestImages.Split(200, 200, TestImages.Red, TestImages.Red);
        Assert.Equal(HttpStatusCode.Created, (await gina.PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().GetAsync($"/avatar/{GravatarTests.Md5(email)}?s=40&d=404")).StatusCode);

        // Another subject whose token claims the same verified address does not get it.
        var impostor = As("oidc-impostor", email, true);
        Assert.Equal(HttpStatusCode.OK, (await impostor.GetAsync("/api/users/me/pictures")).StatusCode);
        Assert.Empty(await EmailsOf(impostor));
        Assert.Single(await EmailsOf(gina));

        // Not verified: nothing registered.
        var unverified = As("oidc-unverified", "unverified@example.com", false);
        Assert.Equal(HttpStatusCode.OK, (await unverified.GetAsync("/api/users/me/pictures")).StatusCode);
        Assert.Empty(await EmailsOf(unverified));
    }
}
