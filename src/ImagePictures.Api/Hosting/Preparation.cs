using ImagePictures.Api.Avatars;
using ImagePictures.Api.Database;

namespace ImagePictures.Api.Hosting;

public static class Preparation
{
    /// <summary>Applies the migrations and prepares the default picture before the service takes its first request; a failure stops the start.</summary>
    public static async Task PrepareAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<Migrator>().MigrateAsync();
        await app.Services.GetRequiredService<DefaultAvatar>().GetAsync();
    }
}
