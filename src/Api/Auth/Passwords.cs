using Microsoft.AspNetCore.Identity;

namespace MyPay.Api.Auth;

/// <summary>ASP.NET Core Identity's password hashing (PBKDF2, salted, versioned). Grains store only the hash.</summary>
public sealed class Passwords
{
    private static readonly object Nobody = new();
    private readonly PasswordHasher<object> hasher = new();

    /// <summary>A hash verified when no member matches, so a wrong email takes as long as a wrong password.</summary>
    private readonly string decoyHash;

    public Passwords() => decoyHash = hasher.HashPassword(Nobody, Guid.NewGuid().ToString());

    public string Hash(string password) => hasher.HashPassword(Nobody, password);

    public bool Verify(string? hash, string password)
    {
        var result = hasher.VerifyHashedPassword(Nobody, hash ?? decoyHash, password);
        return hash is not null && result is PasswordVerificationResult.Success or PasswordVerificationResult.SuccessRehashNeeded;
    }
}
