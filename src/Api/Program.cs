using MyPay.Api.Auth;
using MyPay.Api.Banking;
using MyPay.Api.Events;
using MyPay.Api.Health;
using MyPay.Api.Hosting;
using MyPay.Api.Ledger;
using MyPay.Api.Members;
using MyPay.Api.Operators;
using MyPay.Api.OpenApi;
using MyPay.Api.Payments;
using MyPay.Api.Remittance;
using MyPay.Api.Reports;
using MyPay.Api.Settlement;
using MyPay.Api.Wallet;
using MyPay.Api.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.AddMyPayLogging();
builder.AddMyPayLimits();
builder.Services.AddMyPayProblems();
builder.AddMyPaySilo();
builder.Services.AddMyPayAuth(builder.Configuration);
builder.Services.AddMyPayBank(builder.Configuration);
builder.Services.AddMyPayWallet();
builder.Services.AddMyPayPayments();
builder.Services.AddMyPayCommission();
builder.Services.AddMyPayRemittances();
builder.Services.AddMyPayWebhooks();
builder.Services.AddMyPayMetrics();
builder.Services.AddMyPayIdleMemoryTrim(builder.Configuration);
builder.Services.AddOperatorConsole();
builder.Services.AddOperatorPages();
builder.Services.AddMyPayOpenApi();

var app = builder.Build();

app.UseMyPayLogging();
app.UseMyPayProblems();
app.UseMyPayLimits();
app.UseMyPayAuth();
app.MapHealth();
app.MapCluster();
app.MapMetrics();
app.MapOperatorConsole();
app.MapOperatorPages();
app.MapAuth();
app.MapMembers();
app.MapBankAccounts();
app.MapFirmbanking();
app.MapWallet();
app.MapPayments();
app.MapCommission();
app.MapRemittances();
app.MapSettlements();
app.MapLedger();
app.MapReports();
app.MapWebhooks();
app.MapEvents();
app.MapBench();
app.MapMyPayOpenApi();

app.Run();

/// <summary>Entry point, visible to the tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
