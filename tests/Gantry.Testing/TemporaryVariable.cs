namespace Gantry.Testing;

/// <summary>An environment variable of this process set for a while: restored to its previous value when disposed.</summary>
public sealed class TemporaryVariable : IDisposable
{
    private readonly string name;
    private readonly string? previous;

    private TemporaryVariable(string name, string? value)
    {
        this.name = name;
        previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public static IDisposable Set(string name, string? value) => new TemporaryVariable(name, value);

    public void Dispose() => Environment.SetEnvironmentVariable(name, previous);
}
