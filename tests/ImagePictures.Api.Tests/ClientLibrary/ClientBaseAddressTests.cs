using ImagePictures.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.ClientLibrary;

/// <summary>The .NET client talks only to http(s) addresses: anything else is refused when it is made, with a message that says what to set.</summary>
[Trait("Category", "Unit")]
public class ClientBaseAddressTests
{
    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/plain,hello")]
    [InlineData("ftp://pictures.example.com/")]
    [InlineData("file:///srv/pictures/")]
    [InlineData("ws://pictures.example.com/")]
    public void ABaseAddressThatIsNotHttpOrHttpsIsRefused(string address)
    {
        var options = new ImagePicturesClientOptions { BaseAddress = new Uri(address) };
        var e = Assert.Throws<ArgumentException>(() => new ImagePicturesClient(new HttpClient(), options));
        Assert.Contains("http:// or https://", e.Message);
        Assert.Contains("BaseAddress", e.Message);

        // The HttpClient's own BaseAddress is held to the same rule, and so is the registration.
        Assert.Throws<ArgumentException>(() => new ImagePicturesClient(new HttpClient { BaseAddress = new Uri(address) }));
        using var services = new ServiceCollection().AddImagePicturesClient(o => o.BaseAddress = new Uri(address)).BuildServiceProvider();
        Assert.Throws<ArgumentException>(() => services.GetRequiredService<ImagePicturesClient>());
    }

    [Fact]
    public void ARelativeBaseAddressIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImagePicturesClient(new HttpClient(), new() { BaseAddress = new Uri("/pictures", UriKind.Relative) }));
        Assert.Contains("http:// or https://", e.Message);
    }

    [Theory]
    [InlineData("http://localhost:5080", "http://localhost:5080/")]
    [InlineData("https://pictures.example.com/prefix", "https://pictures.example.com/prefix/")]
    public void HttpAndHttpsAddressesAreUsed(string address, string expected)
    {
        var client = new ImagePicturesClient(new HttpClient(), new() { BaseAddress = new Uri(address) });
        Assert.Equal(expected, client.BaseAddress.AbsoluteUri);
    }
}
