-- soak-fetch.lua: wrk script for drills/soak.sh's steady stream of audited env-file fetches.
--
-- Environment (set by soak.sh):
--   SOAK_TOKEN_FILE  a file holding the fetcher's token (mode 0600): read here, never on a command line
--   SOAK_PATH        the request path
--   SOAK_DELAY_MS    pause of each connection between its answer and its next request (sets the rate)
--   SOAK_SLICE_OUT   where done() writes this slice's result:
--                      "S <requests> <2xx> <4xx> <5xx> <other> <socket errors> <timeouts> <p50 us> <p99 us>"
--                    then "P <percentile> <latency us>" (1..90 by 1, 90.1..100 by 0.1), so soak.sh can merge the
--                    slices into one percentile over all of a quarter's fetches instead of averaging percentiles.

local f = assert(io.open(os.getenv("SOAK_TOKEN_FILE"), "r"))
local token = f:read("*l")
f:close()

wrk.method = "GET"
wrk.path = os.getenv("SOAK_PATH")
wrk.headers["Authorization"] = "Bearer " .. token
local gap = tonumber(os.getenv("SOAK_DELAY_MS"))

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   counts = {}   -- global: done() reads it from each thread with thread:get
end

function delay()
   return gap
end

function response(status, headers, body)
   local class = math.floor(status / 100)
   counts[class] = (counts[class] or 0) + 1
end

function done(summary, latency, requests)
   local c = {}
   for _, t in ipairs(threads) do
      for class, n in pairs(t:get("counts")) do
         c[class] = (c[class] or 0) + n
      end
   end
   local other = 0
   for class, n in pairs(c) do
      if class ~= 2 and class ~= 4 and class ~= 5 then other = other + n end
   end
   local e = summary.errors
   local out = assert(io.open(os.getenv("SOAK_SLICE_OUT"), "w"))
   out:write(string.format("S %d %d %d %d %d %d %d %d %d\n", summary.requests, c[2] or 0, c[4] or 0, c[5] or 0,
      other, e.connect + e.read + e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
   -- The latency distribution as percentiles: every 1 % up to 90, every 0.1 % above (Debian's wrk gives its Lua no
   -- raw histogram).
   if summary.requests > 0 then
      for i = 10, 999 do
         if i <= 900 and i % 10 == 0 or i > 900 then
            out:write(string.format("P %.1f %d\n", i / 10, latency:percentile(i / 10)))
         end
      end
      out:write(string.format("P 100.0 %d\n", latency.max))   -- (percentile(100) answers 0)
   end
   out:close()
end
