using ImagePictures.Benchmarks;

// Drivers for scripts/bench.sh. Every measuring command ends with one line "RESULT key=value ...".
return args.FirstOrDefault() switch
{
    "pg-start" => Drivers.PgStart(args[1]),
    "pg-stop" => Drivers.PgStop(args[1]),
    "gen-jpeg" => Drivers.GenJpeg(args[1], args[2]),
    "ingest-baseline" => await Ingest.BaselineAsync(args[1], double.Parse(args[2]), int.Parse(args[3]), double.Parse(args[4])),
    "ingest" => await Ingest.HttpAsync(args[1], args[2], double.Parse(args[3]), int.Parse(args[4]), double.Parse(args[5])),
    "ingest-mem" => await Ingest.MemoryAsync(args[1], args[2], int.Parse(args[3]), int.Parse(args[4])),
    "seed-avatar" => await Drivers.SeedAvatarAsync(args[1], args[2], args[3]),
    "seed-fanout" => await Drivers.SeedFanoutAsync(args[1], args[2], args[3]),
    "purge" => await Purge.RunAsync(args[1], args[2], args[3], int.Parse(args[4])),
    "purge-fs-baseline" => Purge.FileSystemBaseline(args[1], int.Parse(args[2])),
    "ingest-imagesharp" => await ImageSharpLoop.LoopAsync(args[1], double.Parse(args[2]), int.Parse(args[3]), double.Parse(args[4])),
    "ingest-imagesharp-mem" => await ImageSharpLoop.MemoryAsync(args[1], int.Parse(args[2])),
    "zipf-seed" => await Zipf.SeedAsync(args[1], args[2], args[3], int.Parse(args[4]), int.Parse(args[5]), args[6], int.Parse(args[7]), double.Parse(args[8], System.Globalization.CultureInfo.InvariantCulture)),
    "pg-counters" => await Zipf.CountersAsync(args[1]),
    "s3-start" => S3Bench.Start(args[1]),
    "s3-stop" => S3Bench.Stop(args[1]),
    "s3-bucket" => await S3Bench.CreateBucketAsync(args[1], args[2]),
    "pg-db" => await Drivers.PgDatabaseAsync(args[1], args[2]),
    "ingest-s3-baseline" => await S3Bench.IngestBaselineAsync(args[1], double.Parse(args[2]), int.Parse(args[3]), double.Parse(args[4]), args[5], args[6]),
    "purge-s3" => await S3Bench.PurgeAsync(args[1], args[2], args[3], args[4], int.Parse(args[5])),
    "purge-s3-baseline" => await S3Bench.PurgeBaselineAsync(args[1], args[2], int.Parse(args[3]), args[4]),
    "events" => await Events.RunAsync(args[1], args[2], args[3], args[4], int.Parse(args[5]), int.Parse(args[6])),
    "micro" => Micro.Run(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: ImagePictures.Benchmarks <command>
          pg-start <dataDir>                     start (or attach to) a private PostgreSQL; prints RESULT conn=...
          pg-stop <dataDir>                      stop it
          gen-jpeg <big.jpg> <small.jpg>         12 MP noise+gradient JPEG Q90 and a small one
          ingest-baseline <jpeg> <seconds> <threads> <warmup s>   ImagePipeline.NormalizeAsync in-process
          ingest <url> <jpeg> <seconds> <clients> <warmup s>      uploads through HTTP
          ingest-mem <url> <jpeg> <pid> <concurrent>   peak RSS (VmHWM) of <pid> during a burst
          seed-avatar <url> <jpeg> <outFile>     upload + activate; writes /avatars/{u}?size=64 WebP bytes; prints both paths
          seed-fanout <url> <jpeg> <user>        two pictures for <user>; prints RESULT token= a= b=
          purge <url> <conn> <storageRoot> <n>   seed n expired trashed pictures, trigger trash-purge
          purge-fs-baseline <storageRoot> <n>    the same folders deleted by a bare loop (disk ceiling)
          ingest-imagesharp <jpeg> <seconds> <threads> <warmup s>  the same work with ImageSharp 2.1, in-process
          ingest-imagesharp-mem <jpeg> <concurrent>  peak RSS of this process normalising that many at once with ImageSharp
          zipf-seed <conn> <storageRoot> <webp> <users> <withPictures> <pathsFile> <samples> <s>   the million-user population
          pg-counters <conn>                     pg_stat_database.xact_commit (+ pg_stat_statements calls)
          pg-db <dataDir> <name>                 another database in the running cluster; prints RESULT conn=...
          s3-start <dir> / s3-stop <dir>         a private Ceph S3 gateway in <dir>; prints RESULT url=...
          s3-bucket <s3url> <bucket>             create a bucket
          ingest-s3-baseline <jpeg> <seconds> <threads> <warmup s> <s3url> <bucket>   normalise + bare-SDK puts
          purge-s3 <url> <conn> <s3url> <bucket> <n>         the purge, objects in the bucket (service on S3)
          purge-s3-baseline <s3url> <bucket> <n> <sizes>     the same keys deleted by bare DeleteObjects
          events <url> <conn> <amqpUri> <exchange> <n> <webhookN>   events/s to RabbitMQ and one webhook vs bare loops
          micro [BenchmarkDotNet args]           micro benchmarks of the imaging pipeline
        """);
    return 2;
}
