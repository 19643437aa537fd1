using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Core.Checklists;
using Gantry.Server.Checklists;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>Pre-deployment checklists as people see and sign them; the automated checks run in <see cref="ChecklistRuns"/>.</summary>
public sealed class ChecklistService(IRolloutStore store, IChecklistStore checklistStore, ChecklistRuns checklists, ReconcilerSignals signals, TimeProvider time)
{
    /// <summary>A rollout's checklist as last checked (its items unchecked yet when it has just been created).</summary>
    public async Task<Result<ChecklistRecord>> ChecklistAsync(string id, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } state)
        {
            return ProblemCodes.UnknownRollout.With($"there is no rollout '{id}'");
        }

        if (await checklistStore.ChecklistAsync(id, ct) is { } record)
        {
            return record;
        }

        var items = checklists.ItemsFor(state.Environment);
        return state.ChecklistGated && !items.IsEmpty
            ? new ChecklistRecord(id, state.Environment, [.. items.Select(i => new ChecklistItemResult(i.Name, i.Check.Kind, i.Required, false, "not checked yet", time.GetUtcNow()))], time.GetUtcNow())
            : ProblemCodes.NoChecklist.With($"rollout {id} did not wait for a checklist ({state.Environment} has none, or it is a rollback)");
    }

    /// <summary>A person signs off a checklist item of a waiting rollout; recorded with who and when.</summary>
    public async Task<Result<ChecklistRecord>> SignOffAsync(string id, string item, AuditContext who, Principal? caller, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } state)
        {
            return ProblemCodes.UnknownRollout.With($"there is no rollout '{id}'");
        }

        var items = checklists.ItemsFor(state.Environment);
        if (items.FirstOrDefault(i => i.Name == item) is not { } found)
        {
            return ProblemCodes.UnknownChecklistItem.With($"the checklist of {state.Environment} has no item '{item}'" + (items.IsEmpty ? string.Empty : $"; it has {string.Join(", ", items.Select(i => i.Name))}"));
        }

        if (found.Check is not SignOffCheck signOff)
        {
            return ProblemCodes.NotASignOff.With($"'{item}' is an automated {found.Check.Kind} check: it passes by itself, not by a signature");
        }

        if (!state.AwaitsChecklist || !state.IsWaiting)
        {
            return ProblemCodes.NotWaiting.With($"rollout {id} is {state.Phase}: it no longer waits for its checklist");
        }

        // The item names who signs it (a group), and nobody signs off their own rollout.
        if (caller is not null && SignOffRule.Refusal(signOff.Role, item, state.CreatedBy, caller.Name, caller.Groups) is { } refused)
        {
            return ProblemCodes.SignOffRefused.With(refused);
        }

        if (!await checklistStore.SignAsync(new SignOff(id, item, who.Actor, time.GetUtcNow()), ct, who))
        {
            var first = (await checklistStore.SignOffsAsync(id, ct)).First(s => s.Item == item);
            return ProblemCodes.AlreadySigned.With(string.Create(CultureInfo.InvariantCulture, $"'{item}' of rollout {id} was signed off by {first.By} at {first.At:yyyy-MM-dd HH:mm} UTC"));
        }

        checklists.Poke(id);
        signals.Wake.Pulse();
        var record = await checklists.CheckAsync(id, state.Environment, ct);
        await checklistStore.SaveChecklistAsync(record, ct);
        return record;
    }
}
