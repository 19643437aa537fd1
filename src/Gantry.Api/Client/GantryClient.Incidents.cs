using Gantry.Core.Dora;
using Gantry.Core.Incidents;
using Gantry.Core.Notifications;
using static Gantry.Api.ApiRoutes;

namespace Gantry.Api;

/// <summary>Incidents, their postmortems, DORA metrics and notification deliveries.</summary>
public sealed partial class GantryClient
{
    public Task<IncidentView> OpenIncidentAsync(OpenIncidentRequest request, CancellationToken ct) => PostAsync<IncidentView>(Fill(Incidents), request, ct);

    public Task<List<Incident>> IncidentsAsync(string? service, string? environment, bool openOnly, CancellationToken ct) =>
        GetAsync<List<Incident>>(Fill(Incidents, ("service", service), ("environment", environment), ("open", openOnly ? "true" : null)), ct);

    public Task<IncidentView> IncidentAsync(string id, CancellationToken ct) => GetAsync<IncidentView>(Fill(IncidentById, [id]), ct);

    /// <summary>Moves an incident on (one of <see cref="ApiRoutes.IncidentSteps"/>), with a note for its timeline.</summary>
    public Task<IncidentView> MoveIncidentAsync(string id, string step, CommandRequest request, CancellationToken ct) =>
        PostAsync<IncidentView>(Fill(IncidentStep, [id, Known(step, IncidentSteps)]), request, ct);

    /// <summary>The incident's postmortem draft, as Markdown.</summary>
    public Task<string> PostmortemAsync(string id, CancellationToken ct) => TextAsync(Fill(IncidentPostmortem, [id]), ct);

    /// <summary>DORA's four keys over <paramref name="since"/> (a duration such as 90d), of one service or environment when given.</summary>
    public Task<DoraReport> DoraAsync(string? service, string? environment, string since, CancellationToken ct) =>
        GetAsync<DoraReport>(Fill(Dora, ("since", since), ("service", service), ("environment", environment)), ct);

    /// <summary>Where the standing objectives of <paramref name="service"/> (or of every service) stand.</summary>
    public Task<List<SloView>> SlosAsync(string? service, CancellationToken ct) => GetAsync<List<SloView>>(Fill(Slos, ("service", service)), ct);

    public Task<List<Delivery>> DeliveriesAsync(bool deadOnly, CancellationToken ct) =>
        GetAsync<List<Delivery>>(Fill(Notifications, ("status", deadOnly ? "dead" : null)), ct);
}
