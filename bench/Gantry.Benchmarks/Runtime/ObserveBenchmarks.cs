using BenchmarkDotNet.Attributes;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;

namespace Gantry.Benchmarks.Runtime;

/// <summary>
/// What a resync asks of the process runtime: the instances of every target, one target at a time. The peer is how the
/// reconciler asked before, every instance's status for each target, then filtered (N x N statuses for N targets);
/// <see cref="IRuntime.Observe(TargetId)"/> makes only the target's. One instance per target, as a server at rest with
/// N services left by its predecessor (the runtime's unclaimed instances cost what running ones do to observe).
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet runs only classes it can derive from, and disposes the runtime in GlobalCleanup")]
public class ObserveBenchmarks
{
    private ProcessRuntime runtime = null!;
    private TargetId[] targets = [];

    [Params(200, 1000)]
    public int Targets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var left = Enumerable.Range(0, Targets)
            .Select(i => new AdoptionRecord($"s{i:0000}-default-v1-0", $"s{i:0000}", "default", "v1", "v1", 0, 20000 + i, 4_000_000 + i, 1, 0))
            .ToList();
        runtime = new ProcessRuntime(TimeProvider.System, adoptable: left);
        targets = [.. left.Select(r => new TargetId(r.Service, r.Environment))];
    }

    [GlobalCleanup]
    public async Task Cleanup() => await runtime.DisposeAsync();

    [Benchmark(Baseline = true)]
    public int AllObservedThenFiltered()
    {
        var seen = 0;
        foreach (var target in targets)
        {
            seen += runtime.Observe().Where(i => i.SetId.BelongsTo(target)).Count();
        }

        return seen;
    }

    [Benchmark]
    public int ObservedByTarget()
    {
        var seen = 0;
        foreach (var target in targets)
        {
            seen += runtime.Observe(target).Count;
        }

        return seen;
    }
}
