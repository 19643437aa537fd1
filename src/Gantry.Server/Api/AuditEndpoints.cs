using System.Text.Json;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>The audit trail: records, verification of the hash chain, and the export as JSON lines; and a backup of the whole store.</summary>
public static class AuditEndpoints
{
    public const string ExportContentType = "application/x-ndjson";

    public const string BackupContentType = "application/vnd.sqlite3";

    public static void Map(RouteGroupBuilder api)
    {
        var viewer = new Requires(Role.Viewer);
        api.MapGet(ApiRoutes.Audit, async (string? target, DateTimeOffset? since, int? limit, IAuditStore audit, CancellationToken ct) =>
            TypedResults.Ok((await audit.AuditAsync(new AuditQuery(target, since, Math.Clamp(limit ?? 200, 1, 100_000)), ct)).ToList())).WithName("ListAudit").WithMetadata(viewer);

        api.MapGet(ApiRoutes.AuditVerify, async (IAuditStore audit, CancellationToken ct) =>
            TypedResults.Ok(await audit.VerifyAuditAsync(ct))).WithName("VerifyAudit").WithMetadata(viewer);

        // Every event as JSON lines, oldest first, streamed.
        api.MapGet(ApiRoutes.AuditExport, async (HttpContext http, IAuditStore audit, CancellationToken ct) =>
        {
            http.Response.ContentType = ExportContentType;
            await foreach (var e in audit.AllAuditAsync(ct))
            {
                await http.Response.WriteAsync(JsonSerializer.Serialize(e, GantryJson.Options) + "\n", ct);
            }
        }).WithName("ExportAudit").WithMetadata(viewer).Produces<AuditEvent>(StatusCodes.Status200OK, ExportContentType);

        // A consistent copy of the store (SQLite's online backup), streamed, then deleted here; audited as the caller's.
        api.MapGet(ApiRoutes.Backup, async (HttpContext http, Backups.BackupService backups, TimeProvider time, CancellationToken ct) =>
        {
            var file = Path.Combine(Path.GetTempPath(), $"gantry-backup-{Guid.NewGuid():N}.db");
            try
            {
                var bytes = await backups.WriteAsync(file, "backup sent to the caller", AccessControl.WhoOf(http), ct);
                http.Response.ContentType = BackupContentType;
                http.Response.ContentLength = bytes;
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"{Backups.BackupSchedule.NameAt(time.GetUtcNow())}\"";
                await using var stream = File.OpenRead(file);
                await stream.CopyToAsync(http.Response.Body, ct);
            }
            finally
            {
                File.Delete(file);
            }
        }).WithName("BackupStore").WithMetadata(new Requires(Role.Admin)).Produces<Stream>(StatusCodes.Status200OK, BackupContentType);
    }
}
