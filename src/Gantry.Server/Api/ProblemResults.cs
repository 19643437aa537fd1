using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>The one place a problem becomes problem+json: status, title, detail and the catalog's <c>code</c>.</summary>
public static class ProblemResults
{
    public static ProblemHttpResult For(Problem problem) => TypedResults.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title,
        extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = problem.Code });

    public static ProblemHttpResult For(ProblemCode code, string detail) => For(code.With(detail));
}
