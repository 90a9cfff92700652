using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Trash;

public static class TrashSetup
{
    public static void AddTrash(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<TrashOptions>(TrashOptions.Section);
        builder.Services.AddSingleton<TrashService>();
    }
}
