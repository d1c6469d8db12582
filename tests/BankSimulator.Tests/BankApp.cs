using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using MyPay.Testing;

namespace MyPay.BankSimulator.Tests;

/// <summary>
/// A fresh bank per test, served by real Kestrel on a free port: a lost response must drop a real
/// TCP connection, which the in-memory test server cannot do. Its books are its own on the PostgreSQL server
/// of <c>./mypay test</c>, dropped with the app, or books given to it that outlive it.
/// </summary>
public sealed class BankApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;
    private readonly BankBooks? ownBooks;

    /// <param name="settings">Configuration, such as <c>["Bank:RandomSeed"] = "7"</c>.</param>
    /// <param name="books">The database to keep the books in, for a bank restarted on the same books; none for a fresh one.</param>
    public BankApp(IReadOnlyDictionary<string, string?>? settings = null, BankBooks? books = null)
    {
        this.settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
        ownBooks = books is null ? new BankBooks() : null;
        this.settings.TryAdd(BankBooks.UrlVariable, (books ?? ownBooks)!.ConnectionString);

        // A listen option rather than UseKestrel(0): the factory applies a port by rewriting the server's
        // addresses after the host is built, which races with Program.cs starting the server on its own thread.
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (ownBooks is not null)
        {
            await ownBooks.DisposeAsync();
        }
    }
}

/// <summary>An account's address, as tests name it.</summary>
public sealed record BankAccount(string BankCode, string AccountNumber)
{
    public string Path => $"/banks/{BankCode}/accounts/{AccountNumber}";

    /// <summary>MyPay's corporate account with the default options.</summary>
    public static BankAccount Corporate { get; } = new("088", "100-000-000001");
}

/// <summary>A file deleted when the test ends, for seed files.</summary>
public sealed class TemporaryFile : IDisposable
{
    public TemporaryFile(string contents)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bank-seed-{Guid.NewGuid():N}.json");
        File.WriteAllText(Path, contents);
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
