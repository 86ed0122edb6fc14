-- wrk script: POST the /forward benchmark's body (Benchmarks/peers/forward_body.py),
-- read from the file named by BACKPROP_FORWARD_BODY.
local path = os.getenv("BACKPROP_FORWARD_BODY") or "/tmp/backprop-forward-237k.json"
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
