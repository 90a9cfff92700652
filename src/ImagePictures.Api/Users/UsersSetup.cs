namespace ImagePictures.Api.Users;

public static class UsersSetup
{
    /// <summary>The user's lock for every change of one user, and account deletion.</summary>
    public static void AddUsers(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UserChanges>();
        builder.Services.AddSingleton<UserService>();
    }
}
