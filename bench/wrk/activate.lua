-- Activates many idle wallets: each request reads a different member's wallet (as the operator), so each
-- activates one wallet grain. Each thread stops after COUNT requests; the node's memory is read after.
local token = os.getenv("TOKEN")
local count = tonumber(os.getenv("COUNT") or "50000")
local counter = 0
local responses = 0
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
  return wrk.format("GET", "/v1/members/idle-" .. thread_id .. "-" .. counter .. "/wallet", { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  responses = responses + 1
  if responses >= count then
    wrk.thread:stop()
  end
end
