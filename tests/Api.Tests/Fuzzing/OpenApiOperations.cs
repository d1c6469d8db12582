using System.Text.Json;

namespace MyPay.Api.Tests.Fuzzing;

/// <summary>A parameter of an operation: where it goes (<c>path</c>, <c>query</c>, <c>header</c>) and its schema.</summary>
internal sealed record OpenApiParameter(string Name, string In, bool Required, JsonElement Schema);

/// <summary>A property of a JSON body's schema, with its schema resolved.</summary>
internal sealed record OpenApiProperty(string Name, bool Required, JsonElement Schema);

/// <summary>One operation of the OpenAPI document, as much of it as a request generator needs.</summary>
internal sealed record OpenApiOperation(string Method, string PathTemplate, IReadOnlyList<OpenApiParameter> Parameters, IReadOnlyList<OpenApiProperty>? Body)
{
    public override string ToString() => $"{Method} {PathTemplate}";
}

/// <summary>Reads the operations of an OpenAPI 3 document (as ASP.NET Core writes it), following its <c>$ref</c>s.</summary>
internal static class OpenApiOperations
{
    private static readonly string[] Methods = ["get", "put", "post", "patch", "delete"];

    public static IReadOnlyList<OpenApiOperation> Read(JsonElement document)
    {
        var operations = new List<OpenApiOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var shared = path.Value.TryGetProperty("parameters", out var pathParameters) ? Parameters(document, pathParameters) : [];
            foreach (var method in Methods)
            {
                if (!path.Value.TryGetProperty(method, out var operation))
                {
                    continue;
                }

                var parameters = operation.TryGetProperty("parameters", out var own) ? [.. shared, .. Parameters(document, own)] : shared;
                operations.Add(new OpenApiOperation(method.ToUpperInvariant(), path.Name, parameters, Body(document, operation)));
            }
        }

        return operations;
    }

    /// <summary>The schema's types, without <c>null</c>: <c>"integer"</c>, or <c>["null", "string"]</c>, or those of a <c>oneOf</c>.</summary>
    public static IReadOnlyList<string> Types(JsonElement document, JsonElement schema)
    {
        schema = Resolve(document, schema);
        if (schema.TryGetProperty("type", out var type))
        {
            return type.ValueKind == JsonValueKind.Array
                ? [.. type.EnumerateArray().Select(item => item.GetString()!).Where(name => name != "null")]
                : type.GetString() is { } single && single != "null" ? [single] : [];
        }

        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options))
            {
                return [.. options.EnumerateArray().SelectMany(option => Types(document, option)).Distinct()];
            }
        }

        return schema.TryGetProperty("properties", out _) ? ["object"] : [];
    }

    /// <summary>The object schema a <c>oneOf</c> or <c>$ref</c> leads to, when there is one.</summary>
    public static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        for (var depth = 0; depth < 16; depth++)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                schema = reference.GetString()!.TrimStart('#', '/').Split('/').Aggregate(document, (node, segment) => node.GetProperty(segment));
            }
            else if ((schema.TryGetProperty("oneOf", out var options) || schema.TryGetProperty("anyOf", out options))
                && options.EnumerateArray().FirstOrDefault(option => Types(document, option) is not []) is { ValueKind: JsonValueKind.Object } option)
            {
                schema = option;
            }
            else
            {
                return schema;
            }
        }

        throw new InvalidOperationException("The schema's references go round in circles.");
    }

    public static IReadOnlyList<OpenApiProperty> Properties(JsonElement document, JsonElement schema)
    {
        schema = Resolve(document, schema);
        if (!schema.TryGetProperty("properties", out var properties))
        {
            return [];
        }

        var required = schema.TryGetProperty("required", out var names) ? names.EnumerateArray().Select(name => name.GetString()).ToHashSet() : [];
        return [.. properties.EnumerateObject().Select(property => new OpenApiProperty(property.Name, required.Contains(property.Name), Resolve(document, property.Value)))];
    }

    private static IReadOnlyList<OpenApiParameter> Parameters(JsonElement document, JsonElement parameters) =>
        [.. parameters.EnumerateArray().Select(parameter => Resolve(document, parameter)).Select(parameter => new OpenApiParameter(
            parameter.GetProperty("name").GetString()!,
            parameter.GetProperty("in").GetString()!,
            parameter.TryGetProperty("required", out var required) && required.GetBoolean(),
            parameter.TryGetProperty("schema", out var schema) ? Resolve(document, schema) : default))];

    private static IReadOnlyList<OpenApiProperty>? Body(JsonElement document, JsonElement operation) =>
        operation.TryGetProperty("requestBody", out var body)
        && Resolve(document, body).TryGetProperty("content", out var content)
        && content.TryGetProperty("application/json", out var json)
        && json.TryGetProperty("schema", out var schema)
            ? Properties(document, schema)
            : null;
}
