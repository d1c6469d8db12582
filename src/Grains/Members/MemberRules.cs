using System.Globalization;
using System.Net.Mail;

namespace MyPay.Grains.Members;

/// <summary>The shape of member data: one place that says what a valid name, email, address and password are.</summary>
public static class MemberRules
{
    public const int NameLengthMax = 100;
    public const int EmailLengthMax = 254;
    public const int AddressLengthMax = 200;
    public const int PasswordLengthMin = 8;
    public const int PasswordLengthMax = 128;

    /// <summary>Null when valid; otherwise what is wrong, naming the field.</summary>
    public static string? CheckName(string? name) => CheckText("name", name, NameLengthMax, required: true);

    public static string? CheckAddress(string? address) => CheckText("address", address, AddressLengthMax, required: false);

    public static string? CheckEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return "email is required.";
        }

        if (email.Length > EmailLengthMax)
        {
            return $"email is {email.Length} characters; at most {EmailLengthMax} are allowed.";
        }

        var trimmed = email.Trim();
        return MailAddress.TryCreate(trimmed, out var parsed) && parsed.Address == trimmed && parsed.DisplayName.Length == 0
            && trimmed.Contains('.', StringComparison.Ordinal) && !trimmed.Any(char.IsWhiteSpace)
            ? null
            : "email is not a valid address.";
    }

    public static string? CheckPassword(string? password) =>
        password is null || password.Length < PasswordLengthMin || password.Length > PasswordLengthMax
            ? $"password must be {PasswordLengthMin} to {PasswordLengthMax} characters."
            : null;

    /// <summary>Emails compare without case and surrounding space: one account per mailbox.</summary>
    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>Names compare as people write them: trimmed, inner runs of space collapsed, Unicode-normalized.</summary>
    public static string NormalizeName(string name) =>
        string.Join(' ', name.Normalize(System.Text.NormalizationForm.FormC).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string? CheckText(string field, string? value, int lengthMax, bool required)
    {
        if (value is null || value.Trim().Length == 0)
        {
            return required ? $"{field} is required." : null;
        }

        if (value.Length > lengthMax)
        {
            return $"{field} is {value.Length} characters; at most {lengthMax} are allowed.";
        }

        return value.Any(character => char.GetUnicodeCategory(character) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned)
            ? $"{field} contains control or unassigned characters."
            : null;
    }
}
