using MyPay.Api.Operators.Pages;

namespace MyPay.Api.Operators;

/// <summary>
/// The operators' own pages, rendered on the server (Razor components, no script): the money page at
/// <c>/operator</c>, reloading itself every few seconds, and the ledger check and reconciliation at
/// <c>/operator/checks</c>, run when opened. Signed in as for Orleans' dashboard (<see cref="OperatorConsole"/>).
/// </summary>
public static class OperatorPages
{
    public const string MoneyPath = "/operator";
    public const string ChecksPath = "/operator/checks";

    public static IServiceCollection AddOperatorPages(this IServiceCollection services)
    {
        services.AddRazorComponents();
        return services;
    }

    public static WebApplication MapOperatorPages(this WebApplication app)
    {
        app.MapGet(MoneyPath, MoneyAsync).RequireAuthorization(OperatorConsole.Policy).ExcludeFromDescription();
        app.MapGet(ChecksPath, ChecksAsync).RequireAuthorization(OperatorConsole.Policy).ExcludeFromDescription();
        return app;
    }

    private static async Task<RazorComponentResult<MoneyPage>> MoneyAsync(HttpContext context, [AsParameters] MoneySources sources, CancellationToken cancellationToken) =>
        Page<MoneyPage>(context, new { View = await MoneyView.ReadAsync(sources, cancellationToken) });

    private static async Task<RazorComponentResult<ChecksPage>> ChecksAsync(HttpContext context, [AsParameters] ChecksSources sources, CancellationToken cancellationToken) =>
        Page<ChecksPage>(context, new { View = await ChecksView.ReadAsync(sources, cancellationToken) });

    /// <summary>A page that is never cached: it shows money as it stands.</summary>
    private static RazorComponentResult<TPage> Page<TPage>(HttpContext context, object parameters)
        where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        context.Response.Headers.CacheControl = "no-store";
        return new RazorComponentResult<TPage>(parameters);
    }
}
