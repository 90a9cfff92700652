using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>The kinds of caller every route is tried with.</summary>
public static class Callers
{
    public const string Owner = "owner", Other = "other", Admin = "admin", Provision = "provision", Anonymous = "anonymous",
        Expired = "expired", AlgNone = "alg-none", Tampered = "tampered", ForeignKey = "foreign-key", WrongAudience = "wrong-audience";

    public static readonly string[] Forged = [Anonymous, Expired, AlgNone, Tampered, ForeignKey, WrongAudience];

    public static HttpClient Client(PicturesApplication app, string kind, string ownerId) => kind switch
    {
        Owner => app.ClientFor(ownerId),
        Other => app.ClientFor("mallory"),
        Admin => app.Admin(),
        Provision => app.Provisioner(),
        Anonymous => app.ClientWithToken(null),
        Expired => app.ClientWithToken(app.Token(ownerId, lifetime: TimeSpan.FromMinutes(-10))),
        AlgNone => app.ClientWithToken(ForgedTokens.AlgNone(ownerId)),
        Tampered => app.ClientWithToken(ForgedTokens.Tampered(app.Token("mallory"), ownerId)),
        ForeignKey => app.ClientWithToken(ForgedTokens.ForeignKey(ownerId)),
        WrongAudience => app.ClientWithToken(ForgedTokens.WrongAudience(ownerId, DevKey(app))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static string DevKey(PicturesApplication app) =>
        ((Microsoft.Extensions.Configuration.IConfiguration)app.Services.GetService(typeof(Microsoft.Extensions.Configuration.IConfiguration))!)["Auth:SigningKey"]!;
}
