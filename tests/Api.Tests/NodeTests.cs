namespace MyPay.Api.Tests;

/// <summary>Tests of one node (a <see cref="MyPayApp"/> over the class's database and bank), started ready before each test and stopped after.</summary>
public abstract class NodeTests(BankFixture fixture) : IAsyncLifetime
{
    protected BankFixture Fixture { get; } = fixture;

    protected MyPayApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = new MyPayApp(Fixture.Database.ConnectionString, Fixture.Bank.BaseAddress);
        (await App.CreateReadyClientAsync()).Dispose();
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}
