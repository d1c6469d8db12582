# The bank simulator (firmbanking, accounts, the corporate account), for a MyPay without a real bank. Built from the
# repository root:
#   docker build -f deploy/bank.Dockerfile -t mypay-bank .
# Listens on 8080; keeps its books in the database MYPAY_BANK_DATABASE_URL names.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY . .
RUN dotnet publish src/BankSimulator/MyPay.BankSimulator.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# curl, for the health check only.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["curl", "--fail", "--silent", "--output", "/dev/null", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "MyPay.BankSimulator.dll"]
