/**
 * The Lua scripts of the Redis backend. Each runs atomically in Redis, so that an event's id
 * and its place in the log are taken in one step, whatever the number of hubs and publishers.
 *
 * Keys (one hash tag, so that a script's keys share a slot on Redis Cluster):
 * - `{prefix}:epoch`: the epoch of the sequence; created when missing, so that a Redis that
 *   lost its data (a restart without persistence, a FLUSHALL) starts a new one;
 * - `{prefix}:seq`: the last seq given;
 * - `{prefix}:log`: the ordered log, a Stream whose entry ids are `<seq>-0` (log mode), or the
 *   channel events are published on (pubsub mode).
 * @module
 */

/** Shared start of the scripts: the epoch, created with the caller's candidate when missing. */
const EPOCH = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('DEL', KEYS[2], KEYS[3])
end
`;

/** Forgets log entries older than maxAgeMs (at most 100 per call, oldest first). */
const TRIM_BY_AGE = `
local function trimByAge(now, maxAge)
  if maxAge <= 0 then return end
  for _ = 1, 100 do
    local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
    if #oldest == 0 then return end
    local fields = oldest[1][2]
    local at = 0
    for i = 1, #fields, 2 do
      if fields[i] == 'at' then at = tonumber(fields[i + 1]) end
    end
    if at >= now - maxAge then return end
    redis.call('XDEL', KEYS[3], oldest[1][1])
  end
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Appends a batch. ARGV: candidate epoch, mode ('log' | 'pubsub'), max entries, max age (ms),
 * count, then per event: name ('\\0' for none), data, target (JSON), history ('1' | '0').
 * Returns `{ epoch, first seq }`.
 */
export const APPEND = `${EPOCH}${TRIM_BY_AGE}
local mode = ARGV[2]
local maxLen = tonumber(ARGV[3])
local maxAge = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local first = redis.call('INCRBY', KEYS[2], n) - n + 1
local now = nowMs()
for i = 0, n - 1 do
  local at = 6 + i * 4
  local seq = first + i
  if mode == 'log' then
    redis.call('XADD', KEYS[3], 'MAXLEN', maxLen, seq .. '-0',
      'p', epoch, 'e', ARGV[at], 'd', ARGV[at + 1], 't', ARGV[at + 2], 'h', ARGV[at + 3], 'at', now)
  else
    redis.call('PUBLISH', KEYS[3], epoch .. '\\n' .. seq .. '\\n' .. ARGV[at + 3] .. '\\n' .. ARGV[at] .. '\\n' .. ARGV[at + 2] .. '\\n' .. ARGV[at + 1])
  end
end
if mode == 'log' then trimByAge(now, maxAge) end
return { epoch, first }
`;

/**
 * Reads the log after a position. ARGV: candidate epoch, the position's epoch, its seq, the
 * most entries, max age (ms). Returns `{ status, epoch, head, entries? }` with status `ok`,
 * `unknown-epoch`, `ahead` or `stale`.
 */
export const READ = `${EPOCH}${TRIM_BY_AGE}
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
if epoch ~= ARGV[2] then return { 'unknown-epoch', epoch, head } end
local after = tonumber(ARGV[3])
if after > head then return { 'ahead', epoch, head } end
trimByAge(nowMs(), tonumber(ARGV[5]))
local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
local floor = head
if #oldest > 0 then floor = tonumber(string.match(oldest[1][1], '^(%d+)')) - 1 end
if after < floor then return { 'stale', epoch, head } end
return { 'ok', epoch, head, redis.call('XRANGE', KEYS[3], '(' .. after .. '-0', '+', 'COUNT', tonumber(ARGV[4])) }
`;

/** Where the sequence stands. ARGV: candidate epoch. Returns `{ epoch, head }`. */
export const HEAD = `${EPOCH}
return { epoch, tonumber(redis.call('GET', KEYS[2]) or '0') }
`;
