using Gantry.Core.Access;
using Gantry.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Who is asking, and the tokens admins create, list and revoke.</summary>
public static class TokenEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var admin = new Requires(Role.Admin);
        api.MapGet(ApiRoutes.WhoAmI, Results<Ok<Principal>, ProblemHttpResult> (HttpContext http) =>
            AccessControl.CallerOf(http) is { } caller ? TypedResults.Ok(caller) : ProblemResults.For(ProblemCodes.NotAuthenticated, "not authenticated"))
            .WithName("WhoAmI").WithMetadata(new Requires(Role.Viewer));

        api.MapPost(ApiRoutes.Tokens, async Task<Results<Created<CreatedToken>, ProblemHttpResult>> (TokenRequest request, HttpContext http, TokenService tokens, CancellationToken ct) =>
        {
            var result = await tokens.CreateAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Token, [result.Value!.Token.Id]), result.Value);
        }).WithName("CreateToken").WithMetadata(admin);

        api.MapGet(ApiRoutes.Tokens, async (TokenService tokens, CancellationToken ct) => TypedResults.Ok((await tokens.ListAsync(ct)).ToList())).WithName("ListTokens").WithMetadata(admin);

        api.MapDelete(ApiRoutes.Token, async Task<Results<Ok<TokenView>, ProblemHttpResult>> (string id, HttpContext http, TokenService tokens, CancellationToken ct) =>
            ApiEndpoints.Answer(await tokens.RevokeAsync(id, AccessControl.WhoOf(http), ct))).WithName("RevokeToken").WithMetadata(admin);
    }
}
