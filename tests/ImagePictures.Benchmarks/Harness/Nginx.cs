namespace ImagePictures.Benchmarks.Harness;

/// <summary>nginx serving one folder as static files on a free loopback port: the serving rows' baseline.</summary>
public static class Nginx
{
    /// <returns>the server's root URL, once it serves <paramref name="probePath"/></returns>
    public static async Task<string> StartAsync(BenchContext ctx, string wwwDir, string probePath)
    {
        var dir = Path.Combine(ctx.Work, "nginx");
        Directory.CreateDirectory(dir);
        var port = BenchContext.FreePort();
        var user = File.ReadLines("/etc/passwd").Any(l => l.StartsWith("www-data:")) ? "www-data" : "root";
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            user {{user}};
            worker_processes auto;
            daemon off;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log warn;
            events { worker_connections 4096; }
            http {
              access_log off;
              sendfile on;
              tcp_nopush on;
              keepalive_requests 1000000;
              client_body_temp_path {{dir}}/body;
              proxy_temp_path {{dir}}/proxy;
              fastcgi_temp_path {{dir}}/fastcgi;
              uwsgi_temp_path {{dir}}/uwsgi;
              scgi_temp_path {{dir}}/scgi;
              types { image/jpeg jpg; image/png png; image/webp webp; }
              server {
                listen 127.0.0.1:{{port}};
                root {{wwwDir}};
                location / { add_header Cache-Control "public, max-age=60"; add_header Vary Accept; }
              }
            }
            """);
        var nginx = ChildProcess.Start(ctx.Cleanup, "nginx", ["-e", Path.Combine(dir, "error.log"), "-c", Path.Combine(dir, "nginx.conf"), "-p", dir]);
        var url = $"http://127.0.0.1:{port}";
        try { await BenchContext.WaitHttpAsync(url + probePath, TimeSpan.FromSeconds(10)); }
        catch (TimeoutException) { throw new InvalidOperationException($"nginx did not serve {probePath}: {nginx.Stderr}"); }
        return url;
    }
}
