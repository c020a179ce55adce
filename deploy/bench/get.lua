-- wrk: GET requests from a file of "token path" lines, each thread walking its own share. A path
-- under /console carries the token as the console's session cookie, others as a bearer token.
-- Arguments (after --): lines file, thread count.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

function init(args)
    targets = {}
    for _, line in ipairs(share(args[1], tonumber(args[2]))) do
        local token, path = line:match("^(%S+) (%S+)$")
        targets[#targets + 1] = { token = token, path = path }
    end
    counter = 0
end

function request()
    counter = counter + 1
    local target = targets[((counter - 1) % #targets) + 1]
    if target.path:sub(1, 8) == "/console" then
        return wrk.format("GET", target.path, { ["Cookie"] = "order_console_session=" .. target.token })
    end
    return wrk.format("GET", target.path, { ["Authorization"] = "Bearer " .. target.token })
end
