using ImagePictures.Api.Auth;
using Microsoft.Extensions.Configuration;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Development tokens, signed with the key from the top-level appsettings.Development.json the child reads too.</summary>
public static class Tokens
{
    private static readonly DevTokens Dev = new(Microsoft.Extensions.Options.Options.Create(new ConfigurationBuilder()
        .SetBasePath(TestPaths.RepositoryRoot)
        .AddJsonFile("appsettings.json")
        .AddJsonFile("appsettings.Development.json")
        .Build().GetSection(AuthOptions.Section).Get<AuthOptions>()!));

    public static string For(string userId) => Dev.Create(userId).Token;
    public static string Admin() => Dev.Create("fault-admin", roles: ["admin"]).Token;
    public static string Expired(string userId) => Dev.Create(userId, lifetime: TimeSpan.FromMinutes(-10)).Token;
    public static string Provisioner() => Dev.Create("signup-service", scopes: ["pictures:provision"]).Token;
}
