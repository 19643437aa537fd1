using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Gantry.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
