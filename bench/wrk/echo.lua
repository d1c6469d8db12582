-- Kestrel's own ceiling: a trivial JSON POST, the same shape as a recharge body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":10000}'
