-- wrk: GET requests from a file of "token path" lines, each thread walking its own share.
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
    return wrk.format("GET", target.path, { ["Authorization"] = "Bearer " .. target.token })
end
