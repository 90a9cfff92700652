using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>
/// The shipped nginx site (deploy/nginx-imagepictures.conf) run by Debian's nginx in front of the
/// service on Kestrel: every spelling of /metrics is refused by nginx itself, while the API and the
/// avatars pass through. Only the addresses are changed (loopback ports instead of 80/443 with
/// certificates, a log file in the test's folder); the site's locations are used as shipped.
/// </summary>
[Trait("Category", "Fault")]
public class NginxSiteTests(KestrelPicturesApplication app) : IClassFixture<KestrelPicturesApplication>
{
    public static readonly string[] MetricsSpellings =
    [
        "/metrics", "/metrics/", "/METRICS", "/Metrics", "/metrics/.", "/metrics/./", "/METRICS/", "//metrics", "/./metrics",
        "/avatars/../metrics", "/%6detrics", "/%6Detrics", "/%4D%45%54%52%49%43%53", "/metrics%2F", "/%2Fmetrics", "/metrics?x=1",
        "/metrics;x", "/metrics.", "/metrics%20",
    ];

    [Fact]
    public async Task TheShippedSiteRefusesEverySpellingOfMetricsAndPassesTheApi()
    {
        var upload = await app.Api("nx-alice").PostAsync("/api/users/nx-alice/pictures?activate=true", TestUploads.Form(TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var picture = (await upload.Content.ReadFromJsonAsync<PictureJson>())!;

        await using var nginx = await Nginx.StartAsync(new Uri(app.BaseUrl).Port);
        foreach (var path in MetricsSpellings)
        {
            var (status, headers, body) = await Nginx.RawGetAsync(nginx.Port, path);
            Assert.True(status == 404, $"{path} answered {status} through nginx");
            // nginx's own page, not the service's problem details: the site refused it before the service saw it.
            Assert.Contains("content-type: text/html", headers, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("# TYPE", body);
        }
        // The service itself still serves /metrics to a scraper on the host.
        Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync($"{app.BaseUrl}/metrics")).StatusCode);

        using var viaNginx = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Port}") };
        var avatar = await viaNginx.GetAsync("/avatars/nx-alice?size=64");
        Assert.Equal(HttpStatusCode.OK, avatar.StatusCode);
        Assert.StartsWith("image/", avatar.Content.Headers.ContentType?.MediaType);
        viaNginx.DefaultRequestHeaders.Authorization = new("Bearer", app.Token("nx-alice"));
        var list = await viaNginx.GetFromJsonAsync<PictureJson[]>("/api/users/nx-alice/pictures");
        Assert.Equal([picture.Id], list!.Select(p => p.Id));
        var live = await viaNginx.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    /// <summary>nginx as a child process of the test, stopped by its pid on dispose.</summary>
    private sealed class Nginx : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _folder;
        public int Port { get; }

        private Nginx(Process process, string folder, int port) { _process = process; _folder = folder; Port = port; }

        public static async Task<Nginx> StartAsync(int upstreamPort)
        {
            var folder = Directory.CreateTempSubdirectory("ip-nginx-").FullName;
            // Started as root, nginx's worker runs as nobody and must reach its temp folders here.
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
            var port = FreePort();
            var site = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "deploy", "nginx-imagepictures.conf"));
            site = Replace(site, "server 127.0.0.1:5080;", $"server 127.0.0.1:{upstreamPort};");
            site = Replace(site, "listen 80;", $"listen 127.0.0.1:{FreePort()};");
            site = Replace(site, "listen 443 ssl http2;", $"listen 127.0.0.1:{port};");
            site = Replace(site, "ssl_certificate     /etc/ssl/imagepictures/fullchain.pem;", "");
            site = Replace(site, "ssl_certificate_key /etc/ssl/imagepictures/privkey.pem;", "");
            site = Replace(site, "/var/log/nginx/imagepictures.access.log", Path.Combine(folder, "access.log"));
            File.WriteAllText(Path.Combine(folder, "site.conf"), site);
            File.WriteAllText(Path.Combine(folder, "nginx.conf"), $$"""
                daemon off;
                master_process on;
                worker_processes 1;
                pid {{folder}}/nginx.pid;
                error_log {{folder}}/error.log;
                events { worker_connections 64; }
                http {
                    client_body_temp_path {{folder}}/body;
                    proxy_temp_path {{folder}}/proxy;
                    fastcgi_temp_path {{folder}}/fastcgi;
                    uwsgi_temp_path {{folder}}/uwsgi;
                    scgi_temp_path {{folder}}/scgi;
                    include {{folder}}/site.conf;
                }
                """);
            var start = new ProcessStartInfo("/usr/sbin/nginx", ["-p", folder, "-c", Path.Combine(folder, "nginx.conf"), "-e", Path.Combine(folder, "error.log")])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            var process = Process.Start(start)!;
            var nginx = new Nginx(process, folder, port);
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!await AcceptsAsync(port))
                {
                    if (process.HasExited || DateTime.UtcNow > deadline)
                        Assert.Fail($"nginx did not start: {await process.StandardError.ReadToEndAsync()} {ErrorLog(folder)}");
                    await Task.Delay(50);
                }
                return nginx;
            }
            catch
            {
                await nginx.DisposeAsync();
                throw;
            }
        }

        private static string Replace(string text, string old, string replacement)
        {
            Assert.True(text.Contains(old), $"the shipped site no longer contains '{old}'; update this test's substitutions");
            return text.Replace(old, replacement);
        }

        private static string ErrorLog(string folder) => File.Exists(Path.Combine(folder, "error.log")) ? File.ReadAllText(Path.Combine(folder, "error.log")) : "";

        private static async Task<bool> AcceptsAsync(int port)
        {
            using var tcp = new TcpClient();
            try { await tcp.ConnectAsync(IPAddress.Loopback, port); return true; }
            catch (SocketException) { return false; }
        }

        /// <summary>A request line sent exactly as written (HttpClient would normalise the path first).</summary>
        public static async Task<(int Status, string Headers, string Body)> RawGetAsync(int port, string path)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: pictures.example.com\r\nConnection: close\r\n\r\n"));
            var text = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var headers = split < 0 ? text : text[..split];
            return (int.Parse(headers.Split(' ', 3)[1]), headers, split < 0 ? "" : text[(split + 4)..]);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
