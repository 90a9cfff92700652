using ImagePictures.Api.Operations;
using System.Net;
using System.Net.Sockets;
using Dapper;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Real errors from a real PostgreSQL, classified by the exception handler: only a database that
/// cannot be reached, is overloaded or shuts down is 503 + Retry-After; a value the request caused
/// is 400, a conflict 409, anything else 500, and no body shows the server's message.
/// </summary>
[Trait("Category", "Api")]
public class DatabaseErrorTests
{
    private static async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(await TestCluster.NewDatabaseAsync());
        await conn.OpenAsync();
        return conn;
    }

    private static (int Status, string Title, string Detail, int? RetryAfter) Classified(Exception e) => ProblemExceptionHandler.Classify(e);

    private static async Task<Exception> Failure(Func<Task> action) => await Assert.ThrowsAnyAsync<Exception>(action);

    [Fact]
    public async Task ANulByteThePostgreSqlServerRefusesIs400NotAnOutage()
    {
        await using var conn = await OpenAsync();
        var e = await Failure(() => conn.ExecuteScalarAsync<string>("SELECT @t::text", new { t = "a\0b" }));
        Assert.Equal("22021", ((PostgresException)e).SqlState);
        var (status, _, detail, retry) = Classified(e);
        Assert.Equal(400, status);
        Assert.Null(retry);
        Assert.DoesNotContain("0x00", detail);
    }

    [Fact]
    public async Task AnOutOfRangeNumberIs400()
    {
        await using var conn = await OpenAsync();
        var e = await Failure(() => conn.ExecuteScalarAsync<int>("SELECT 2147483647::int + @one", new { one = 1 }));
        Assert.Equal("22003", ((PostgresException)e).SqlState);
        Assert.Equal(400, Classified(e).Status);
    }

    [Fact]
    public async Task AUniqueViolationIs409()
    {
        await using var conn = await OpenAsync();
        await conn.ExecuteAsync("CREATE TEMP TABLE once (x int PRIMARY KEY); INSERT INTO once VALUES (1)");
        var e = await Failure(() => conn.ExecuteAsync("INSERT INTO once VALUES (1)"));
        Assert.Equal("23505", ((PostgresException)e).SqlState);
        Assert.Equal(409, Classified(e).Status);
    }

    [Fact]
    public async Task AnErrorOfOurOwnSqlIs500AndLeaksNothing()
    {
        await using var conn = await OpenAsync();
        var e = await Failure(() => conn.ExecuteAsync("SELECT * FROM no_such_table_here"));
        Assert.Equal("42P01", ((PostgresException)e).SqlState);
        var (status, title, detail, retry) = Classified(e);
        Assert.Equal(500, status);
        Assert.Null(retry);
        Assert.DoesNotContain("no_such_table", title + detail);
        Assert.DoesNotContain("relation", title + detail);
    }

    [Fact]
    public async Task ASessionTerminatedByTheServerIs503WithRetryAfter()
    {
        await using var victim = await OpenAsync();
        var pid = await victim.ExecuteScalarAsync<int>("SELECT pg_backend_pid()");
        await using (var admin = await OpenAsync())
            await admin.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", new { pid });
        var e = await Failure(() => victim.ExecuteScalarAsync<int>("SELECT 1"));
        Assert.IsAssignableFrom<NpgsqlException>(e);
        var (status, _, _, retry) = Classified(e);
        Assert.Equal(503, status);
        Assert.NotNull(retry);
    }

    [Fact]
    public async Task ADatabaseThatIsNotListeningIs503WithRetryAfter()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        await using var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=x;Password=x;Database=x;Timeout=3;Pooling=false");
        var e = await Failure(() => conn.OpenAsync());
        var (status, _, _, retry) = Classified(e);
        Assert.Equal(503, status);
        Assert.NotNull(retry);
    }

    [Theory]
    [InlineData("53300", 503)] // too many connections
    [InlineData("57P01", 503)] // admin shutdown
    [InlineData("57P02", 503)] // crash shutdown
    [InlineData("57P03", 503)] // cannot connect now (starting up or shutting down)
    [InlineData("08006", 503)] // connection failure
    [InlineData("40P01", 503)] // deadlock: retrying helps
    [InlineData("22P02", 400)] // invalid text representation
    [InlineData("23503", 409)] // foreign key
    [InlineData("23502", 400)] // not null
    [InlineData("42501", 503)] // permission denied: the operator must grant the role its privileges
    [InlineData("42601", 500)] // syntax error: ours
    [InlineData("XX000", 500)] // internal error
    public void EachServerErrorClassMapsToItsStatus(string sqlState, int expected)
    {
        var (status, _, detail, retry) = Classified(new PostgresException("server says secret things", "ERROR", "ERROR", sqlState));
        Assert.Equal(expected, status);
        Assert.Equal(expected == 503, retry is not null);
        Assert.DoesNotContain("secret", detail);
    }
}
