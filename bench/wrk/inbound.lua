-- POST /v1/messages/inbound: every request a new message from a new person.
--
--   wrk -s bench/wrk/inbound.lua -H "Authorization: Bearer KEY" URL -- AREA FIRST STRIDE CHECK
--
-- Thread t sends the numbers +1 AREA (FIRST + t*STRIDE + n), n = 0, 1, ... (7 digits),
-- message ids wamid.bench.AREA.(same number), texts STOP and START in turn. CHECK "1":
-- a 2xx answer must name the event it recorded ("event_id":"..."); "0" (the trivial
-- route): any 2xx answer counts.

local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")

local texts = { "STOP", "START" }
local area, base, stride = "646", 0, 1000000

function init(args)
   area = args[1]
   stride = tonumber(args[3])
   base = tonumber(args[2]) + id * stride
   if args[4] == "1" then count_text = '"event_id":"' end
end

function request()
   if sent >= stride then overflow = overflow + 1 end
   local n = base + sent
   sent = sent + 1
   local body = string.format(
      '{"channel":"whatsapp","from":"+1%s%07d","text":"%s",'
      .. '"message_id":"wamid.bench.%s.%d","occurred_at":"%s"}',
      area, n, texts[n % 2 + 1], area, n, occurred_at())
   return wrk.format("POST", "/v1/messages/inbound", nil, body)
end
