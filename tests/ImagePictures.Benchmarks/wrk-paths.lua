-- wrk script for scripts/bench.sh: replays the request paths listed (one a line) in the file named by
-- the WRK_PATHS environment variable, each thread from its own offset, cycling. The same script
-- drives both the million-user run and its hot-avatar reference (a one-line list), so wrk's own cost
-- per request is the same on both sides of the ratio.
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
  position = ((thread_index or 1) - 1) * 7919 % #paths
end

function request()
  position = position % #paths + 1
  return wrk.format(nil, paths[position])
end
