namespace Gantry.Api;

/// <summary>
/// An expected failure, as the API says it (RFC 9457 problem+json): the HTTP status, a short title, the
/// detail for a person, and the stable <see cref="Code"/> from <see cref="ProblemCodes"/> for a program.
/// </summary>
public sealed record Problem(int Status, string Title, string Detail, string Code);

/// <summary>One entry of the catalog: the code a client may match on, its status and title, and what it means.</summary>
public sealed record ProblemCode(string Code, int Status, string Title, string Meaning)
{
    /// <summary>This problem, with the detail of one occurrence.</summary>
    public Problem With(string detail) => new(Status, Title, detail, Code);

    /// <summary>For problems the HTTP layer raises with a status of its own (<see cref="ProblemCodes.RequestRejected"/>).</summary>
    public Problem With(string detail, int status) => new(status, Title, detail, Code);
}
