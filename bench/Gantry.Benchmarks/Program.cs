using System.Globalization;
using BenchmarkDotNet.Running;
using Gantry.Benchmarks.Rollouts;

// dotnet run -c Release --project bench/Gantry.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Gantry.Benchmarks -- rollback [ITERATIONS]
// dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts [CANARIES_PER_MODE] [MODE ...]
// dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts-sim [AA_RUNS] [CANARIES_PER_FAULT]
// dotnet run -c Release --project bench/Gantry.Benchmarks -- verdicts-example [RUNS]   (wrk, examples/shop/gantry.yaml)
// dotnet run -c Release --project bench/Gantry.Benchmarks -- probes [PROBES_PER_ROUND]   (CPU per readiness probe vs HttpClient)
// dotnet run -c Release --project bench/Gantry.Benchmarks -- probes-at-rest [INSTANCES] [SECONDS] [ROUNDS]   (probes on the grid: the probe loop vs sockets)
// dotnet run -c Release --project bench/Gantry.Benchmarks -- dora-split   (time to read the facts vs to compute, 1M rollouts)
// dotnet run -c Release --project bench/Gantry.Benchmarks -- store-kinds DORA_DB_URL AUDIT_DB_URL [ROUNDS]   (bench/store.sh: SQLite vs PostgreSQL)
if (args.Length > 0 && args[0] == "rollback")
{
    return await RollbackBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10);
}

if (args.Length > 0 && args[0] == "verdicts")
{
    return await VerdictBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100, args.Skip(2).ToArray());
}

if (args.Length > 0 && args[0] == "verdicts-sim")
{
    return Gantry.Benchmarks.Verdicts.VerdictSimulation.Run(
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20);
}

if (args.Length > 0 && args[0] == "verdicts-example")
{
    return await Gantry.Benchmarks.Verdicts.ExampleVerdicts.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20);
}

if (args.Length > 2 && args[0] == "store-kinds")
{
    return await Gantry.Benchmarks.Stores.StoreKindsBenchmark.RunAsync(args[1], args[2], args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5);
}

if (args.Length > 0 && args[0] == "probes")
{
    return await Gantry.Benchmarks.Probes.ProbeBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000);
}

if (args.Length > 0 && args[0] == "probes-at-rest")
{
    // As gantry server runs (RuntimeTuning): its thread pool does not spin before it sleeps.
    AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "0");
    int Arg(int i, int otherwise) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : otherwise;
    return await Gantry.Benchmarks.Probes.ProbesAtRest.RunAsync(Arg(1, 100), Arg(2, 15), Arg(3, 3));
}

if (args.Length > 0 && args[0] == "dora-split")
{
    var b = new Gantry.Benchmarks.Dora.DoraBenchmarks();
    b.Setup();
    for (var round = 0; round < 3; round++)
    {
        await b.SplitAsync(Console.Out);
    }

    b.KeepCopy(Environment.GetEnvironmentVariable("GANTRY_BENCH_COPY"));

    await b.Cleanup();
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
