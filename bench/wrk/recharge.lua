-- The charge endpoint under a client nobody here wrote. One prepared member (MEMBER, TOKEN in the
-- environment); every request carries a fresh Idempotency-Key, so every request is a new recharge.
local member = os.getenv("MEMBER")
local token = os.getenv("TOKEN")
local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  thread_id = tonumber(wrk.thread:get("thread_id")) or 0
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "wrk-" .. thread_id .. "-" .. counter .. "-" .. os.time(),
  }
  return wrk.format("POST", "/v1/members/" .. member .. "/wallet/recharge", headers, '{"amount":10000}')
end
