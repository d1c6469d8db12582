using System.Globalization;
using System.Text;
using System.Text.Json;
using Bogus;

namespace MyPay.Api.Tests.Fuzzing;

/// <summary>Who a generated request claims to be: the test swaps each for a real token (or none).</summary>
internal enum Caller
{
    Anonymous,
    MalformedToken,
    Customer,
    Merchant,
    Operator,
}

/// <summary>A generated request, and what was done to it (printed when it gets a wrong answer).</summary>
internal sealed record FuzzRequest(
    int Index, OpenApiOperation Operation, string Method, string PathAndQuery, Caller Caller, byte[]? Body, string? ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers, IReadOnlyList<string> Mutations)
{
    public override string ToString()
    {
        var body = Body is null ? "no body" : Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 300));
        return $"#{Index} {Method} {PathAndQuery} as {Caller} [{string.Join("; ", Mutations)}] {ContentType}: {body}";
    }
}

/// <summary>
/// Requests for an OpenAPI operation, plausible ones spoiled in one or more places: body fields of the wrong type,
/// missing or given twice, huge numbers, long strings, odd Unicode, malformed JSON, bad route and query values, a
/// bad or missing Idempotency-Key, the wrong content type. Every value comes from Bogus' seeded randomizer, so a
/// seed gives the same requests on every run (ids the server assigns aside).
/// </summary>
internal sealed class BadRequestGenerator
{
    /// <summary>Strings that have broken parsers, encoders and log lines before: controls, bidi overrides, lone surrogates, combining marks.</summary>
    private static readonly string[] OddStrings =
    [
        "\0", "\u202Egnp.exe", "e\u0301\u0301\u0301\u0301", "\uFEFF", "\u200B\u200C\u200D", "🙂💸👨‍👩‍👧", "\uD800", "\uDC00x", "\uFFFF",
        "\u0085\u2028\u2029", "𝔐𝔶𝔓𝔞𝔶", "서울특별시 강남구", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "%00", "\t\r\n", "null", "NaN",
    ];

    /// <summary>Number literals past every range: past long, past double, negative, fractional, exponents.</summary>
    private static readonly string[] HugeNumbers =
    [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999999999999",
        "1e308", "1e400", "-1e400", "1.5", "-0", "0", "-1", "2147483648", "4294967296", "1E3", "0.0000001",
    ];

    /// <summary>Bodies that are not JSON, not an object, or too deep for the reader.</summary>
    private static readonly string[] BrokenBodies =
    [
        "", "{", "}", "{\"amount\":", "{\"amount\":1000,}", "{'amount':1000}", "{\"amount\":1000}}", "[]", "[{}]", "null", "true", "42", "\"text\"",
        "{\"amount\":01000}", "{\"amount\":+1000}", "{\"amount\":0x10}", "{\"amount\":Infinity}", "{\"a\":1 /* comment */}", "amount=1000",
        "<payment amount=\"1000\"/>", new string('[', 1000), "{\"amount\":1000}\0",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
        "application/json; charset=nonsense", "application/merge-patch+json", "*/*", "application/jsonx",
    ];

    private readonly Faker faker;
    private readonly JsonElement document;
    private readonly IReadOnlyList<string> memberIds;
    private readonly IReadOnlyList<string> consumers;

    /// <param name="memberIds">Ids of members that exist, so that some requests get past the lookups.</param>
    /// <param name="consumers">Names of the outbox's consumers, for the rewind route.</param>
    public BadRequestGenerator(int seed, JsonElement document, IReadOnlyList<string> memberIds, IReadOnlyList<string> consumers)
    {
        faker = new Faker("ko") { Random = new Randomizer(seed) };
        this.document = document;
        this.memberIds = memberIds;
        this.consumers = consumers;
    }

    private Randomizer Random => faker.Random;

    public FuzzRequest Next(int index, OpenApiOperation operation)
    {
        var mutations = new List<string>();
        // Most requests carry a real token, so that they get past authentication to the handlers.
        var caller = Random.WeightedRandom(
            [Caller.Anonymous, Caller.MalformedToken, Caller.Customer, Caller.Merchant, Caller.Operator], [0.1f, 0.1f, 0.3f, 0.25f, 0.25f]);
        var routeValues = operation.Parameters.Where(parameter => parameter.In == "path").ToDictionary(parameter => parameter.Name, parameter => Escape(Plausible(parameter.Name, parameter.Schema)));
        var query = operation.Parameters.Where(parameter => parameter.In == "query" && Random.Bool(0.6f))
            .Select(parameter => (parameter.Name, Value: Escape(Plausible(parameter.Name, parameter.Schema)))).ToList();
        var fields = operation.Body?.Where(property => property.Required || Random.Bool(0.8f)).Select(property => (property.Name, Json: PlausibleJson(property.Name, property.Schema))).ToList();
        string? rawBody = null;
        var contentType = fields is null ? null : "application/json";
        var headers = new List<KeyValuePair<string, string>>();
        var key = $"fuzz-{index}-{Random.AlphaNumeric(12)}";

        // Most requests are spoiled in one to three places; a few go as generated, to reach the handlers' own checks.
        var spoils = Random.WeightedRandom([0, 1, 2, 3], [0.08f, 0.5f, 0.3f, 0.12f]);
        for (var spoil = 0; spoil < spoils; spoil++)
        {
            switch (Random.Number(0, 9))
            {
                case <= 3 when fields is not null:
                    mutations.Add(SpoilField(fields, operation.Body!));
                    break;
                case 4 when fields is not null:
                    rawBody = Random.ArrayElement(BrokenBodies);
                    mutations.Add($"body {Shorten(rawBody)}");
                    break;
                case 5 when routeValues.Count > 0:
                    var name = Random.ArrayElement(routeValues.Keys.ToArray());
                    routeValues[name] = BadRouteValue();
                    mutations.Add($"route {name}");
                    break;
                case 6:
                    var queryNames = operation.Parameters.Where(parameter => parameter.In == "query").Select(parameter => parameter.Name).DefaultIfEmpty("unexpected").ToArray();
                    var queryName = Random.ArrayElement(queryNames);
                    query.Add((queryName, Escape(BadScalar())));
                    mutations.Add($"query {queryName}");
                    break;
                case 7:
                    key = BadIdempotencyKey(headers, mutations);
                    break;
                case 8 when fields is not null || rawBody is not null:
                    contentType = Random.Bool(0.2f) ? null : Random.ArrayElement(ContentTypes);
                    mutations.Add($"content type {contentType ?? "none"}");
                    break;
                default:
                    // Noise the endpoint does not expect at all: a body on a read, an unknown header, a strange Accept.
                    (rawBody, contentType) = fields is null && Random.Bool() ? ("{\"amount\":1000}", "application/json") : (rawBody, contentType);
                    headers.Add(new("Accept", Random.ArrayElement(["application/xml", "text/html", "*/*;q=oops", "application/problem+json"])));
                    mutations.Add("noise");
                    break;
            }
        }

        if (key.Length > 0)
        {
            headers.Add(new(Hosting.Idempotency.HeaderName, key));
        }

        var path = routeValues.Aggregate(operation.PathTemplate, (template, route) => template.Replace("{" + route.Key + "}", route.Value, StringComparison.Ordinal));
        var pathAndQuery = query.Count == 0 ? path : path + "?" + string.Join('&', query.Select(item => $"{item.Name}={item.Value}"));
        var body = rawBody is not null ? Encoding.UTF8.GetBytes(rawBody)
            : fields is not null ? ObjectBytes(fields)
            : null;
        if (body is not null && Random.Bool(0.03f))
        {
            // A byte sequence that is not UTF-8 at all, in the middle of the body.
            body = [.. body.Take(body.Length / 2), 0xC3, 0x28, 0xFF, .. body.Skip(body.Length / 2)];
            mutations.Add("invalid UTF-8");
        }

        return new FuzzRequest(index, operation, operation.Method, pathAndQuery, caller, body, contentType, headers, mutations);
    }

    /// <summary>Spoils one field of a body: wrong type, missing, null, given twice, huge, long, odd, or an unknown one added.</summary>
    private string SpoilField(List<(string Name, string Json)> fields, IReadOnlyList<OpenApiProperty> properties)
    {
        var name = properties.Count == 0 ? "unexpected" : Random.ArrayElement(properties.Select(property => property.Name).ToArray());
        var at = fields.FindIndex(field => field.Name == name);
        void Set(string json)
        {
            if (at >= 0)
            {
                fields[at] = (name, json);
            }
            else
            {
                fields.Add((name, json));
            }
        }

        var how = Random.ArrayElement(["wrong type", "missing", "null", "twice", "huge number", "long string", "odd string", "unknown field", "case"]);
        switch (how)
        {
            case "wrong type":
                Set(Random.ArrayElement(["\"1000\"", "true", "[]", "{}", "[1000]", "{\"value\":1000}", "12.5", "\"\"", "1000", "\"m1\""]));
                break;
            case "missing":
                fields.RemoveAll(field => field.Name == name);
                break;
            case "null":
                Set("null");
                break;
            case "twice":
                fields.Add((name, at >= 0 ? PlausibleJson(name, properties.First(property => property.Name == name).Schema) : "1"));
                break;
            case "huge number":
                Set(Random.ArrayElement(HugeNumbers));
                break;
            case "long string":
                Set(JsonString(new string(Random.AlphaNumeric(1)[0], Random.ArrayElement([65, 129, 257, 1_001, 5_000, 70_000]))));
                break;
            case "odd string":
                Set(JsonString(OddString()));
                break;
            case "unknown field":
                fields.Add((Random.ArrayElement(["__proto__", "$type", "amount\u0000", "", OddString()]), "1"));
                break;
            default:
                // The same property under another case: JSON names are case-sensitive, the binder is not.
                fields.Add((name.ToUpperInvariant(), at >= 0 ? fields[at].Json : "1"));
                break;
        }

        return $"{how} {name}";
    }

    private string BadIdempotencyKey(List<KeyValuePair<string, string>> headers, List<string> mutations)
    {
        var key = Random.ArrayElement(["", " ", new string('k', 201), "키", "key with spaces", "\u00e9t\u00e9", "twice"]);
        mutations.Add($"idempotency key '{Shorten(key)}'");
        if (key == "twice")
        {
            headers.Add(new(Hosting.Idempotency.HeaderName, "first"));
            return "second";
        }

        return key;
    }

    /// <summary>
    /// A route value of the wrong shape. No NUL (<c>%00</c>) in a path: Kestrel refuses it before MyPay sees the
    /// request, and the test host cannot even build such a request.
    /// </summary>
    private string BadRouteValue() => Random.Number(0, 4) switch
    {
        0 => Escape(OddString().Replace("\0", "", StringComparison.Ordinal)),
        1 => new string('x', Random.ArrayElement([65, 200, 2_000])),
        2 => Random.ArrayElement(["%FF%FE", "%C3%28", "..", "%2F", "%20", "-", "_", "%25"]),
        3 => Escape(BadScalar().Replace("\0", "", StringComparison.Ordinal)),
        _ => Random.Hexadecimal(24, ""),
    };

    /// <summary>A query or route value of the wrong shape: a word where a number goes, a number past every range, an odd string.</summary>
    private string BadScalar() => Random.Number(0, 3) switch
    {
        0 => Random.ArrayElement(HugeNumbers),
        1 => OddString(),
        2 => new string('9', Random.Number(20, 400)),
        _ => Random.ArrayElement(["", "abc", "true", "[]", "{}", "1,2", "null"]),
    };

    private string OddString() => Random.Bool(0.6f)
        ? Random.ArrayElement(OddStrings)
        : Random.Utf16String(1, 40, excludeSurrogates: false);

    /// <summary>A value a client might well send, by the parameter's name and schema.</summary>
    private string Plausible(string name, JsonElement schema)
    {
        var lower = name.ToLowerInvariant();
        var types = schema.ValueKind == JsonValueKind.Object ? OpenApiOperations.Types(document, schema) : ["string"];
        return lower switch
        {
            _ when lower.EndsWith("memberid", StringComparison.Ordinal) || lower == "merchantid" => Random.ListItem(memberIds.ToList()),
            "consumer" => Random.ListItem(consumers.ToList()),
            "email" or "username" => faker.Internet.Email(),
            "password" => "correct horse battery",
            "type" => Random.ArrayElement(["customer", "merchant"]),
            "status" => Random.ArrayElement(["active", "suspended"]),
            "bankcode" or "tobankcode" => Random.ArrayElement(["004", "088", "020"]),
            "accountnumber" or "toaccountnumber" => Random.Replace("###-######-####"),
            "url" => "https://example.com/hooks/" + Random.AlphaNumeric(8),
            "secret" => Random.AlphaNumeric(32),
            "name" => faker.Name.FullName(),
            "address" => faker.Address.FullAddress(),
            "region" => Random.ArrayElement(["서울", "부산", "강남구"]),
            "orderid" => "order-" + Random.Number(1, 99_999).ToString(CultureInfo.InvariantCulture),
            "amount" => (Random.Number(1, 20) * 10_000).ToString(CultureInfo.InvariantCulture),
            "limit" => Random.Number(1, 50).ToString(CultureInfo.InvariantCulture),
            _ when lower.EndsWith("bps", StringComparison.Ordinal) => Random.Number(0, 500).ToString(CultureInfo.InvariantCulture),
            _ when types.Contains("integer") || types.Contains("number") => Random.Number(1, 100).ToString(CultureInfo.InvariantCulture),
            _ when types.Contains("boolean") => Random.Bool() ? "true" : "false",
            _ when schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("format", out var format) && format.GetString() == "date-time" =>
                new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(Random.Number(0, 600_000)).ToString("O", CultureInfo.InvariantCulture),
            _ => Random.AlphaNumeric(Random.Number(8, 24)),
        };
    }

    /// <summary>The plausible value as JSON: numbers and booleans bare, objects built from their properties, the rest quoted.</summary>
    private string PlausibleJson(string name, JsonElement schema)
    {
        var types = OpenApiOperations.Types(document, schema);
        if (types.Contains("object"))
        {
            return Encoding.UTF8.GetString(ObjectBytes([.. OpenApiOperations.Properties(document, schema).Select(property => (property.Name, PlausibleJson(property.Name, property.Schema)))]));
        }

        if (types.Contains("array"))
        {
            return "[]";
        }

        var value = Plausible(name, schema);
        return types.Contains("integer") || types.Contains("number") || types.Contains("boolean") ? value : JsonString(value);
    }

    private static byte[] ObjectBytes(IEnumerable<(string Name, string Json)> fields) =>
        Encoding.UTF8.GetBytes("{" + string.Join(',', fields.Select(field => $"{JsonString(field.Name)}:{field.Json}")) + "}");

    /// <summary>
    /// A JSON string literal for any .NET string, lone surrogates included: everything past ASCII is escaped, so the
    /// text is valid JSON even when the string it stands for is not valid UTF-16 (System.Text.Json refuses to write those).
    /// </summary>
    private static string JsonString(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var character in value)
        {
            builder.Append(character switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' or > '~' => $"\\u{(int)character:x4}",
                _ => character.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    /// <summary>Percent-encodes a route or query value, whatever it holds: a lone surrogate goes as UTF-8's replacement character.</summary>
    private static string Escape(string value) => string.Concat(Encoding.UTF8.GetBytes(value).Select(octet =>
        char.IsAsciiLetterOrDigit((char)octet) || octet is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~' ? ((char)octet).ToString() : $"%{octet:X2}"));

    private static string Shorten(string text) => text.Length <= 24 ? text : text[..24] + "…";
}
