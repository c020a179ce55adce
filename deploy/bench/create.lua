-- wrk: POST /api/v1/orders, each request with another buyer's token and a fresh Idempotency-Key.
-- Arguments (after --): tokens file, run tag, thread count, request body.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

function init(args)
    tokens = share(args[1], tonumber(args[3]))
    tag = args[2]
    body = args[4]
    counter = 0
end

function request()
    counter = counter + 1
    local token = tokens[((counter - 1) % #tokens) + 1]
    return wrk.format("POST", "/api/v1/orders", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. counter,
    }, body)
end
