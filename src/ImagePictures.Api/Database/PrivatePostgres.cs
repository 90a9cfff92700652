using System.Diagnostics;
using Npgsql;

namespace ImagePictures.Api.Database;

/// <summary>
/// A PostgreSQL cluster of our own, started from Debian's binaries when no connection string is
/// configured, and by the tests. PostgreSQL refuses to run as root, so as root every command runs
/// as the postgres system user. It listens only on a Unix socket inside its data folder.
/// <para>
/// Started with a <see cref="PasswordLogin"/> (the tests do), every connection, socket or TCP, must
/// authenticate with scram-sha-256, and the databases belong to that login role, which is not a
/// superuser: as a production server would be. Otherwise local connections are trusted.
/// </para>
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const int Port = 5432;
    private readonly bool _startedByUs;
    private readonly PasswordLogin? _login;

    /// <summary>A login role and its password; the superuser postgres gets the same password.</summary>
    public sealed record PasswordLogin(string Role, string Password);

    public string DataDirectory { get; }

    /// <summary>The superuser's connection string (with the password, when the cluster requires one).</summary>
    public string ConnectionString { get; }

    private PrivatePostgres(string dataDirectory, bool startedByUs, PasswordLogin? login)
    {
        DataDirectory = dataDirectory;
        _startedByUs = startedByUs;
        _login = login;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = dataDirectory,
            Port = Port,
            Username = "postgres",
            Password = login?.Password,
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>
    /// Starts (or reuses, after a crash left it running) the cluster in <paramref name="dataDirectory"/>.
    /// <paramref name="durable"/> false turns fsync off: for tests only. With <paramref name="login"/>
    /// a new cluster requires scram-sha-256 passwords (pg_hba "local" and "host" lines alike).
    /// </summary>
    public static PrivatePostgres Start(string dataDirectory, bool durable, Action<string>? log = null, PasswordLogin? login = null)
    {
        log ??= _ => { };
        dataDirectory = Path.GetFullPath(dataDirectory);
        var bin = FindBinDirectory();
        var asRoot = Environment.UserName == "root";

        var initialised = false;
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            initialised = true;
            Directory.CreateDirectory(dataDirectory);
            if (asRoot)
            {
                MakeTraversable(Path.GetDirectoryName(dataDirectory)!, log);
                Run("chown", ["postgres:postgres", dataDirectory], asPostgres: false);
            }
            Run("chmod", ["700", dataDirectory], asPostgres: asRoot);
            log($"initialising a private PostgreSQL cluster in {dataDirectory}");
            var passwordFile = login is null ? null : WritePasswordFile(login.Password);
            try
            {
                Run(Path.Combine(bin, "initdb"),
                    ["-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                     .. login is null ? new[] { "--auth=trust" } : ["--auth=scram-sha-256", $"--pwfile={passwordFile}"],
                     .. durable ? Array.Empty<string>() : ["--no-sync"]],
                    asPostgres: asRoot);
            }
            finally { if (passwordFile is not null) File.Delete(passwordFile); }
        }
        else if (asRoot)
        {
            MakeTraversable(Path.GetDirectoryName(dataDirectory)!, log);
        }

        var pgCtl = Path.Combine(bin, "pg_ctl");
        if (Run(pgCtl, ["-D", dataDirectory, "status"], asPostgres: asRoot, throwOnError: false) == 0)
        {
            log($"reusing the private PostgreSQL already running in {dataDirectory}");
            return new PrivatePostgres(dataDirectory, startedByUs: true, login);
        }

        var options = $"-c listen_addresses='' -c unix_socket_directories='{dataDirectory}' -p {Port} -c max_connections=200"
                      + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        Run(pgCtl, ["-D", dataDirectory, "-l", Path.Combine(dataDirectory, "server.log"), "-w", "-t", "60", "-o", options, "start"],
            asPostgres: asRoot);
        log($"started a private PostgreSQL in {dataDirectory}");
        var cluster = new PrivatePostgres(dataDirectory, startedByUs: true, login);
        if (login is not null && initialised) cluster.CreateLoginRole();
        return cluster;
    }

    /// <summary>The password for initdb, in a file the postgres user can read (and nobody else needs to).</summary>
    private static string WritePasswordFile(string password)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pg-pw-{Guid.NewGuid():N}");
        File.WriteAllText(path, password + "\n");
        if (Environment.UserName == "root") Run("chown", ["postgres", path], asPostgres: false);
        return path;
    }

    private void CreateLoginRole()
    {
        using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        conn.Open();
        // Identifiers and the password cannot be parameters here; both come from our own code, quoted.
        using var create = new NpgsqlCommand(
            $"CREATE ROLE \"{_login!.Role.Replace("\"", "")}\" LOGIN PASSWORD '{_login.Password.Replace("'", "''")}'", conn);
        create.ExecuteNonQuery();
    }

    /// <summary>
    /// A connection string for <paramref name="database"/>, created when missing: as the login role
    /// (which owns the database) when the cluster has one, else as the superuser.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string database)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync() is null)
        {
            // Identifiers cannot be parameters; the name is quoted and only ever chosen by our code.
            var owner = _login is null ? "" : $" OWNER \"{_login.Role.Replace("\"", "")}\"";
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "")}\"{owner}", conn);
            await create.ExecuteNonQueryAsync();
        }
        var csb = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database };
        if (_login is not null) (csb.Username, csb.Password) = (_login.Role, _login.Password);
        return csb.ConnectionString;
    }

    public void Stop()
    {
        if (!_startedByUs || !File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) return;
        Run(Path.Combine(FindBinDirectory(), "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop"],
            asPostgres: Environment.UserName == "root", throwOnError: false);
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        Stop();
        return ValueTask.CompletedTask;
    }

    private static string FindBinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Where(d => File.Exists(Path.Combine(d, "bin", "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        if (versions.Count > 0) return Path.Combine(versions[0], "bin");
        throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql. Install them with 'apt-get install postgresql' " +
            "(scripts/run.sh does this) or set ConnectionStrings:Pictures.");
    }

    /// <summary>The postgres user must be able to reach the data folder through every parent.</summary>
    private static void MakeTraversable(string directory, Action<string> log)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            if (!dir.Exists) continue;
            var mode = File.GetUnixFileMode(dir.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(dir.FullName, mode | UnixFileMode.OtherExecute);
                log($"granted o+x on {dir.FullName} so that the postgres user can reach its data folder");
            }
        }
    }

    private static int Run(string file, string[] args, bool asPostgres, bool throwOnError = true)
    {
        var psi = asPostgres ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args]) : new ProcessStartInfo(file, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = "/";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0 && throwOnError)
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
        return process.ExitCode;
    }
}
