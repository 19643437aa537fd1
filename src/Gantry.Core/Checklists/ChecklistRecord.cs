namespace Gantry.Core.Checklists;

/// <summary>One item's latest result: passed or not, why, when, and for a sign-off who gave it.</summary>
public sealed record ChecklistItemResult(string Name, string Kind, bool Required, bool Passed, string Message, DateTimeOffset At, string? By = null);

/// <summary>A rollout's pre-deployment checklist as last checked: every item, and whether every required one passed.</summary>
public sealed record ChecklistRecord(string RolloutId, string Environment, ValueList<ChecklistItemResult> Items, DateTimeOffset UpdatedAt)
{
    public bool Passed => Items.Where(i => i.Required).All(i => i.Passed);
}

/// <summary>A person's sign-off of a checklist item of a rollout.</summary>
public sealed record SignOff(string RolloutId, string Item, string By, DateTimeOffset At);

/// <summary>Where checklist results and sign-offs are kept, with their rollout.</summary>
public interface IChecklistStore
{
    Task SaveChecklistAsync(ChecklistRecord record, CancellationToken ct);

    Task<ChecklistRecord?> ChecklistAsync(string rolloutId, CancellationToken ct);

    /// <summary>Records a sign-off; false when the item was already signed for the rollout (the first stands).</summary>
    Task<bool> SignAsync(SignOff signOff, CancellationToken ct, Audit.AuditContext? who = null);

    Task<IReadOnlyList<SignOff>> SignOffsAsync(string rolloutId, CancellationToken ct);
}
