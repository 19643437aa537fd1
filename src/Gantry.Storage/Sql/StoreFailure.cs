using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>Whether an exception is the database failing (unreachable, shut down, refusing), and why in a few words.</summary>
public static class StoreFailure
{
    /// <summary>The reason when <paramref name="error"/> (or one of its inner exceptions) comes from the database; null for any other failure.</summary>
    public static string? Of(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is DbException)
            {
                return Postgres.PostgresLocation.Reason(e);
            }
        }

        return null;
    }
}
