using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Faults;
using MyPay.BankSimulator.Health;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Ledger;
using MyPay.BankSimulator.Seeding;
using MyPay.BankSimulator.Transfers;

var builder = WebApplication.CreateBuilder(args);

builder.UseDefaultBankPort();
builder.AddBankLimits();
builder.Services.AddBankProblems();
builder.Services.AddBankOptions(builder.Configuration);
builder.Services.AddBankLedger();
builder.Services.AddFaults();

var app = builder.Build();

app.UseBankProblems();
app.UseBankLimits();
await app.PrepareBankDatabaseAsync();
await app.OpenStartingAccountsAsync();
app.MapHealth();
app.MapBanks();
app.MapAccounts();
app.MapTransfers();
app.MapFaults();

await app.RunAsync();

/// <summary>Entry point, visible to the tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
