namespace Gantry.Api;

/// <summary>How a call to the API went wrong.</summary>
public enum ApiFailure
{
    /// <summary>The server answered with a problem (<see cref="ApiCallException.Problem"/>).</summary>
    Refused,

    /// <summary>No connection to the server.</summary>
    Unreachable,

    /// <summary>The server did not answer in time.</summary>
    TimedOut,

    /// <summary>The answer was not what the API promises (empty, or not the expected JSON).</summary>
    Malformed,
}

/// <summary>A call to the API that did not give what was asked; <see cref="Problem"/> carries the server's problem+json, with its catalog code.</summary>
public sealed class ApiCallException(ApiFailure failure, string message, Problem? problem = null, Exception? inner = null) : Exception(message, inner)
{
    public ApiFailure Failure { get; } = failure;

    public Problem? Problem { get; } = problem;
}
