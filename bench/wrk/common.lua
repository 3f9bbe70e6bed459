-- Shared by bench/wrk/*.lua: thread ids, answer checks and one JSON report line.
--
-- setup() gives every thread an id (0, 1, ...); a script numbers its requests
-- first + id * stride + n, so no two threads (and, with a fresh `first` per run, no two
-- runs) ever send the same message id or number. response() counts non-2xx answers,
-- 2xx answers without the text the script expects, and the items (events) the
-- others account for. done() prints one line, "wrk-json {...}", that
-- bench/wrk_load.py reads.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

-- Per thread, in the running phase.
id = 0
sent = 0          -- requests built
ok = 0            -- 2xx answers that carried what the script expects
items = 0         -- events those answers accounted for
non2xx = 0        -- answers outside 200-299
unexpected = 0    -- 2xx answers without the expected text
overflow = 0      -- requests numbered past this thread's range (would collide)
first_bad = ""    -- the first non-2xx or unexpected answer, for the report

-- Set by the script's init(): the plain text counted in each 2xx answer (one item per
-- occurrence; an answer without it is unexpected), or nil to count `per_answer` items
-- per 2xx answer without looking (against the trivial route).
count_text = nil
per_answer = 1

local function occurrences(body, text)
   local found, at = 0, 1
   while true do
      local start, stop = string.find(body, text, at, true)
      if start == nil then return found end
      found, at = found + 1, stop + 1
   end
end

local function remember(status, body)
   if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
   end
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      remember(status, body)
      return
   end
   if count_text == nil then
      ok, items = ok + 1, items + per_answer
      return
   end
   local found = occurrences(body or "", count_text)
   if found == 0 then
      unexpected = unexpected + 1
      remember(status, body)
   else
      ok, items = ok + 1, items + found
   end
end

-- Common request parts.
wrk.headers["Content-Type"] = "application/json"

local stamp_second, stamp = -1, ""

function occurred_at()
   -- One second in the past, as a gateway reports a message it received just now.
   local now = os.time()
   if now ~= stamp_second then
      stamp_second, stamp = now, os.date("!%Y-%m-%dT%H:%M:%SZ", now - 1)
   end
   return stamp
end

local function json_string(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local totals = { sent = 0, ok = 0, items = 0, non2xx = 0, unexpected = 0, overflow = 0 }
   local bad = ""
   for _, thread in ipairs(threads) do
      for name, value in pairs(totals) do
         totals[name] = value + (thread:get(name) or 0)
      end
      if bad == "" then bad = thread:get("first_bad") or "" end
   end
   local e = summary.errors
   io.write(string.format(
      'wrk-json {"threads":%d,"duration_us":%d,"requests":%d,"bytes":%d,'
      .. '"sent":%d,"ok":%d,"items":%d,"non2xx":%d,"unexpected":%d,"overflow":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p99_9":%d,"mean":%.1f,"max":%d},'
      .. '"first_bad":%s}\n',
      #threads, summary.duration, summary.requests, summary.bytes,
      totals.sent, totals.ok, totals.items, totals.non2xx, totals.unexpected, totals.overflow,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.mean, latency.max,
      json_string(bad)))
end
