using MyPay.Api.Health;
using MyPay.Api.Hosting;
using MyPay.Api.Wallet;

var builder = WebApplication.CreateBuilder(args);

builder.AddMyPayLimits();
builder.Services.AddMyPayProblems();
builder.Services.AddMyPaySilo(builder.Configuration);

var app = builder.Build();

app.UseMyPayProblems();
app.UseMyPayLimits();
app.MapHealth();
app.MapWallet();

app.Run();

/// <summary>Entry point, visible to the tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
