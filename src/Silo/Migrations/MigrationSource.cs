using System.Reflection;

namespace MyPay.Silo.Migrations;

/// <summary>
/// A component's ordered migrations: the <c>.sql</c> files embedded in an assembly under a folder,
/// applied in file-name order (<c>0001_...</c>, <c>0002_...</c>). Sources apply in registration order,
/// so the silo's tables exist before the grains' own.
/// </summary>
public sealed record MigrationSource(string Component, Assembly Assembly, string ResourcePrefix)
{
    public static MigrationSource Silo { get; } =
        new("silo", typeof(MigrationSource).Assembly, "MyPay.Silo.Migrations.Sql.");

    /// <summary>The schema and named queries of Orleans' ADO.NET clustering (the membership table), which ships none.</summary>
    public static MigrationSource Clustering { get; } =
        new("clustering", typeof(MigrationSource).Assembly, "MyPay.Silo.Clustering.Sql.");

    /// <summary>The schema and named queries of Orleans' ADO.NET reminder table, which ships none.</summary>
    public static MigrationSource Reminders { get; } =
        new("reminders", typeof(MigrationSource).Assembly, "MyPay.Silo.ReminderTable.Sql.");

    internal IEnumerable<Migration> Load()
    {
        var names = Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            using var stream = Assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return new Migration($"{Component}/{name[ResourcePrefix.Length..]}", reader.ReadToEnd());
        }
    }
}

internal sealed record Migration(string Id, string Sql);
