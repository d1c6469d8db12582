using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using MyPay.Api.Auth;
using Orleans.Dashboard;

namespace MyPay.Api.Operators;

/// <summary>
/// The operators' pages in a browser: Orleans' dashboard at <c>/dashboard</c>. An operator signs in from a browser at
/// <c>/operator/sign-in</c> with the operator's username and password and gets a cookie (HTTP-only, same-site strict,
/// 8 hours); scripts and monitoring send the operator's bearer token from <c>POST /v1/auth/token</c> instead. A browser
/// that is not signed in is sent to the sign-in page; a member's token is refused (403). The sign-in form carries an
/// antiforgery token, and only sends back to a path of this node.
/// </summary>
public static class OperatorConsole
{
    /// <summary>The authorization policy of the operators' pages: the operator, by cookie or by bearer token.</summary>
    public const string Policy = "operator-console";

    public const string CookieScheme = "operator-cookie";

    /// <summary>The setting that leaves Orleans' dashboard out of the node (<c>off</c>): on by default. To weigh what its profiling costs.</summary>
    public const string DashboardSetting = "MYPAY_DASHBOARD";
    public const string DashboardPath = "/dashboard";
    public const string SignInPath = "/operator/sign-in";
    public const string SignOutPath = "/operator/sign-out";

    /// <summary>How long a browser stays signed in without signing in again: 8 hours, an operator's shift.</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromHours(8);

    /// <summary>Reads the caller by bearer token when the request carries one, and by the cookie otherwise.</summary>
    private const string SelectorScheme = "operator-console";

    public static IServiceCollection AddOperatorConsole(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddAuthentication()
            .AddCookie(CookieScheme, cookie =>
            {
                cookie.Cookie.Name = "mypay-operator";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = CookieLifetime;
                cookie.SlidingExpiration = false;
                cookie.LoginPath = SignInPath;
            })
            .AddPolicyScheme(SelectorScheme, "An operator's bearer token, or their browser's cookie", selector => selector.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith(JwtBearerDefaults.AuthenticationScheme + " ", StringComparison.OrdinalIgnoreCase)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : CookieScheme);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(SelectorScheme).RequireRole(Roles.Operator));
        return services;
    }

    /// <summary>Whether this node serves Orleans' dashboard: unless <see cref="DashboardSetting"/> is <c>off</c>.</summary>
    public static bool IsDashboardOn(IConfiguration configuration) =>
        !string.Equals(configuration[DashboardSetting], "off", StringComparison.OrdinalIgnoreCase);

    public static WebApplication MapOperatorConsole(this WebApplication app)
    {
        app.UseAntiforgery();
        app.MapGet(SignInPath, SignInPage).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignInPath, SignInAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignOutPath, (Delegate)SignOutAsync).AllowAnonymous().ExcludeFromDescription();
        if (IsDashboardOn(app.Configuration))
        {
            app.MapOrleansDashboard(routePrefix: DashboardPath).RequireAuthorization(Policy).ExcludeFromDescription();
        }

        return app;
    }

    private static IResult SignInPage(HttpContext context, IAntiforgery antiforgery, [FromQuery] string? returnUrl) =>
        Page(context, antiforgery, LocalPathOr(returnUrl), message: null, StatusCodes.Status200OK);

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, OperatorCredentials credentials, [FromForm] SignInForm form)
    {
        var returnUrl = LocalPathOr(form.ReturnUrl);
        if (!credentials.Verify(form.Username, form.Password))
        {
            return Page(context, antiforgery, returnUrl, "The username or password is wrong.", StatusCodes.Status401Unauthorized);
        }

        var identity = new ClaimsIdentity(
            [new Claim(Roles.SubjectClaim, Roles.Operator), new Claim(Roles.RoleClaim, Roles.Operator)], CookieScheme, Roles.SubjectClaim, Roles.RoleClaim);
        await context.SignInAsync(CookieScheme, new ClaimsPrincipal(identity));
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context)
    {
        await context.SignOutAsync(CookieScheme);
        return Results.Redirect(SignInPath);
    }

    /// <summary>A path of this node to go back to, or the money page: never another site (<c>//evil.example</c>, <c>https://…</c>).</summary>
    private static string LocalPathOr(string? returnUrl) =>
        returnUrl is ['/', not ('/' or '\\'), ..] && !returnUrl.Any(char.IsControl) ? returnUrl : OperatorPages.MoneyPath;

    private static IResult Page(HttpContext context, IAntiforgery antiforgery, string returnUrl, string? message, int statusCode)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var html = HtmlEncoder.Default;
        var notice = message is null ? "" : $"""<p class="notice" role="alert">{html.Encode(message)}</p>""";
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        return Results.Content(
            $$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>MyPay operators: sign in</title>
              <style>
                body { font-family: system-ui, sans-serif; max-width: 22rem; margin: 4rem auto; padding: 0 1rem; }
                label { display: block; margin: 1rem 0 0.25rem; }
                input { width: 100%; padding: 0.5rem; box-sizing: border-box; }
                button { margin-top: 1.5rem; padding: 0.5rem 1.5rem; }
                .notice { color: #a40000; }
              </style>
            </head>
            <body>
              <h1>MyPay operators</h1>
              {{notice}}
              <form method="post" action="{{SignInPath}}">
                <input type="hidden" name="{{html.Encode(tokens.FormFieldName)}}" value="{{html.Encode(tokens.RequestToken ?? "")}}">
                <input type="hidden" name="returnUrl" value="{{html.Encode(returnUrl)}}">
                <label for="username">Username</label>
                <input id="username" name="username" autocomplete="username" required>
                <label for="password">Password</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required>
                <button type="submit">Sign in</button>
              </form>
            </body>
            </html>
            """,
            "text/html; charset=utf-8",
            statusCode: statusCode);
    }

    /// <summary>The sign-in form's fields.</summary>
    public sealed record SignInForm(string? Username, string? Password, string? ReturnUrl);
}
