using ImagePictures.Benchmarks;

// Drivers for scripts/bench.sh. Every measuring command ends with one line "RESULT key=value ...".
return args.FirstOrDefault() switch
{
    "pg-start" => Drivers.PgStart(args[1], args.Length > 2 ? args[2] : "imagepictures"),
    "pg-stop" => Drivers.PgStop(args[1]),
    "gen-jpeg" => Drivers.GenJpeg(args[1], args[2]),
    "ingest-baseline" => await Ingest.BaselineAsync(args[1], double.Parse(args[2]), int.Parse(args[3]), double.Parse(args[4])),
    "ingest" => await Ingest.HttpAsync(args[1], args[2], double.Parse(args[3]), int.Parse(args[4]), double.Parse(args[5])),
    "ingest-mem" => await Ingest.MemoryAsync(args[1], args[2], int.Parse(args[3]), int.Parse(args[4])),
    "seed-avatar" => await Drivers.SeedAvatarAsync(args[1], args[2], args[3]),
    "seed-fanout" => await Drivers.SeedFanoutAsync(args[1], args[2], args[3]),
    "purge" => await Purge.RunAsync(args[1], args[2], args[3], int.Parse(args[4])),
    "purge-fs-baseline" => Purge.FileSystemBaseline(args[1], int.Parse(args[2])),
    "events" => await Events.RunAsync(args[1], args[2], args[3], args[4], int.Parse(args[5]), int.Parse(args[6])),
    "micro" => Micro.Run(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: ImagePictures.Benchmarks <command>
          pg-start <dataDir> [database]          start (or attach to) a private PostgreSQL; prints RESULT conn=...
          pg-stop <dataDir>                      stop it
          gen-jpeg <big.jpg> <small.jpg>         12 MP noise+gradient JPEG Q90 and a small one
          ingest-baseline <jpeg> <seconds> <threads> <warmup s>   ImagePipeline.NormalizeAsync in-process
          ingest <url> <jpeg> <seconds> <clients> <warmup s>      uploads through HTTP
          ingest-mem <url> <jpeg> <pid> <concurrent>   peak RSS (VmHWM) of <pid> during a burst
          seed-avatar <url> <jpeg> <outFile>     upload + activate; writes /avatars/{u}?size=64 bytes
          seed-fanout <url> <jpeg> <user>        two pictures for <user>; prints RESULT token= a= b=
          purge <url> <conn> <storageRoot> <n>   seed n expired trashed pictures, trigger trash-purge
          purge-fs-baseline <storageRoot> <n>    the same folders deleted by a bare loop (disk ceiling)
          events <url> <conn> <amqpUri> <exchange> <n> <webhookN>   events/s to RabbitMQ and one webhook vs bare loops
          micro [BenchmarkDotNet args]           micro benchmarks of the imaging pipeline
        """);
    return 2;
}
