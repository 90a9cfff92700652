using System.Net;
using System.Net.Http.Json;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Promise: tokens never reach the logs. (That /dev/token is 404 outside Development is proven in
/// ImagePictures.Api.Tests: ProductionOperationsTests.DevTokenIs404OutsideDevelopment.)
/// </summary>
[Trait("Category", "Fault")]
public sealed class TokenHygieneTests(ITestOutputHelper output) : ChildServiceTest
{
    [Fact]
    public async Task CapturedLogsContainNoToken()
    {
        // ASP.NET Core's own request logging switched on as well: an operator may well do that.
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot, new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Information",
        }));
        var token = Tokens.For("hygiene");
        var admin = Tokens.Admin();
        var expired = Tokens.Expired("hygiene");
        var tampered = token[..^4] + (token.EndsWith("AAAA") ? "BBBB" : "AAAA");

        using (var client = Child.Client(token))
        {
            var upload = await client.PostAsync("/api/users/hygiene/pictures", Service.Form(Service.SmallJpegs(1, 5)[0]));
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
            var id = await Service.IdOf(upload);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/users/me/pictures")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("/api/users/me/active-picture", new { pictureId = id })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PatchAsJsonAsync($"/api/users/me/pictures/{id}", new { title = "t" })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/users/someone-else/pictures")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/users/me/pictures", new StringContent("x"))).StatusCode);
            await client.GetAsync($"/hubs/pictures?access_token={token}");
            await client.GetAsync($"/api/users/me/pictures?access_token={token}");
        }
        using (var adminClient = Child.Client(admin))
            Assert.Equal(HttpStatusCode.OK, (await adminClient.GetAsync("/api/users/hygiene/pictures")).StatusCode);
        foreach (var bad in new[] { expired, tampered })
        {
            using var client = Child.Client(bad);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/users/hygiene/pictures")).StatusCode);
            await client.GetAsync($"/hubs/pictures?access_token={bad}");
        }
        using (var anonymous = Child.Client())
            Assert.Equal(HttpStatusCode.OK, (await anonymous.PostAsJsonAsync("/dev/token", new { userId = "hygiene" })).StatusCode);

        // The console logger writes on its own thread: the last request's line is the signal that the rest is out.
        await Eventually(() => Child.Output.Contains("POST /dev/token 200"), "the last request's log line");
        var logs = Child.Output;
        Figures.Write(output, "token-hygiene", $"{logs.Split('\n').Length} log lines captured, searched for 4 tokens and 'eyJ'");
        Assert.Contains("/api/users/me/pictures", logs); // the capture works
        foreach (var secret in new[] { token, admin, expired, tampered })
        {
            Assert.DoesNotContain(secret, logs);
            Assert.DoesNotContain(secret.Split('.')[2], logs); // not even the signature alone
        }
        Assert.True(!logs.Contains("eyJ"), "a log line contains 'eyJ':\n" + string.Join('\n', logs.Split('\n').Where(l => l.Contains("eyJ")).Take(5)));
    }
}
