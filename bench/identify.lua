-- wrk script: POST an Identify, as Test-WSMan does.
--   anonymous (default): the WSMANIDENTIFY: unauthenticated header
--   BENCH_AUTH=<value>:  an Authorization header instead (authenticated)
--   BENCH_CLOSE=1:       "Connection: close", a new connection (and TLS
--                        handshake) per request
wrk.method = "POST"
wrk.body = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>'
wrk.headers["Content-Type"] = "application/soap+xml;charset=UTF-8"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
else
  wrk.headers["WSMANIDENTIFY"] = "unauthenticated"
end
if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p50_us=%d p99_us=%d requests=%d non200=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
