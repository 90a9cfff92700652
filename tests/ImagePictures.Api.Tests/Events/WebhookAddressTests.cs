using System.Net;
using ImagePictures.Api.Events;

namespace ImagePictures.Api.Tests.Events;

/// <summary>The webhook address filter on its own: IPv6 spellings that carry an inward IPv4 address, and the check at connect time.</summary>
[Trait("Category", "Unit")]
public class WebhookAddressTests
{
    [Theory]
    [InlineData("64:ff9b::a9fe:a9fe")]              // NAT64 (well-known prefix) of 169.254.169.254, the metadata service
    [InlineData("64:ff9b::a00:1")]                  // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::7f00:1")]                 // NAT64 of 127.0.0.1
    [InlineData("64:ff9b:1::a9fe:a9fe")]            // NAT64 local-use prefix, /96 form
    [InlineData("64:ff9b:1:a9fe:a9:fe00::")]        // NAT64 local-use prefix, /48 form of 169.254.169.254
    [InlineData("::127.0.0.1")]                     // IPv4-compatible
    [InlineData("::a9fe:a9fe")]                     // IPv4-compatible 169.254.169.254
    [InlineData("::ffff:10.1.2.3")]                 // IPv4-mapped
    [InlineData("2002:a9fe:a9fe::1")]               // 6to4 of 169.254.169.254
    [InlineData("2002:c0a8:101::1")]                // 6to4 of 192.168.1.1
    [InlineData("2001:0:4136:e378:8000:63bf:f5ff:fffe")] // Teredo, client 10.0.0.1 (inverted in the last 32 bits)
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fefe")] // Teredo, client 127.0.1.1
    [InlineData("fec0::1")]                         // deprecated site-local
    [InlineData("fd00::1")]                         // unique local
    [InlineData("fe80::1")]                         // link-local
    [InlineData("::1")]
    [InlineData("::")]
    public void InwardAddressesAreNotPublic(string address) => Assert.False(WebhookAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("203.0.113.10")]
    [InlineData("64:ff9b::cb00:710a")]              // NAT64 of 203.0.113.10
    [InlineData("2002:cb00:710a::1")]               // 6to4 of 203.0.113.10
    [InlineData("2001:0:4136:e378:8000:63bf:34ff:8ef5")] // Teredo, client 203.0.113.10
    [InlineData("2606:4700::1111")]
    public void PublicAddressesArePublic(string address) => Assert.True(WebhookAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://[64:ff9b::7f00:1]:9/hook")]
    [InlineData("http://[::127.0.0.1]:9/hook")]
    [InlineData("http://[2002:7f00:1::1]:9/hook")]
    [InlineData("http://[fec0::1]:9/hook")]
    public async Task TheConnectionItselfIsRefused(string url)
    {
        using var client = new WebhookClient(new EventsOptions { Webhooks = { AllowPrivateNetworks = false, TimeoutSeconds = 5 } });
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.Http.PostAsync(url, new StringContent("{}")));
        Assert.Contains("loopback or private", refused.Message);
    }
}
