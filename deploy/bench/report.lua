-- Shared by the wrk scripts: thread numbering, status counts, and one JSON result line.
threads = {}
local thread_count = 0

function setup(thread)
    thread:set("tid", thread_count)
    thread_count = thread_count + 1
    table.insert(threads, thread)
end

-- This thread's share of a file's lines (every n-th); all of them when there are too few.
function share(path, nthreads)
    local mine, all = {}, {}
    local i = 0
    for line in io.lines(path) do
        all[#all + 1] = line
        if i % nthreads == tid then
            mine[#mine + 1] = line
        end
        i = i + 1
    end
    if #mine == 0 then
        return all
    end
    return mine
end

statuses = {}

function response(status, headers, body)
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
    local counts = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do
            counts[status] = (counts[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(counts) do
        parts[#parts + 1] = string.format('"%s":%d', status, n)
    end
    local e = summary.errors
    io.write(string.format(
        'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"socket_errors":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
