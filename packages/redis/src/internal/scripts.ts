/**
 * The Lua scripts: each store operation is one of them, so it is atomic and one round trip (EVALSHA; ioredis
 * falls back to EVAL when a restarted Redis no longer has the script).
 */

/** Lua's `tonumber` of a reply, or 0. */
const num = `local function num(v) if v then return tonumber(v) or 0 end return 0 end`

/**
 * KEYS: entries (zset: member "<seq>:<points>", score at), content (zset: the content-creating members), state
 * (hash: pausedUntil, seq, r:<resource> = JSON reading with blockedUntil).
 * ARGV: now, points, contentCreating (0/1), resource, requestGap, writeGap, pointsPerMinute, contentPerMinute,
 * contentPerHour. Returns { id, at, waitingFor }.
 */
export const reserve = `
${num}
local entries, content, state = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local points = tonumber(ARGV[2])
local isContent = ARGV[3] == "1"
local resource = ARGV[4]
local requestGap, writeGap = tonumber(ARGV[5]), tonumber(ARGV[6])
local ppm, cpm, cph = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local MINUTE, HOUR = 60000, 3600000
redis.call("ZREMRANGEBYSCORE", entries, "-inf", now - HOUR)
redis.call("ZREMRANGEBYSCORE", content, "-inf", now - HOUR)
local at, why = now, ""
local paused = num(redis.call("HGET", state, "pausedUntil"))
if paused > at then at = paused; why = "paused" end
local raw = redis.call("HGET", state, "r:" .. resource)
if raw then
  local reading = cjson.decode(raw)
  if tonumber(reading.remaining) == 0 and tonumber(reading.blockedUntil) > at then
    at = tonumber(reading.blockedUntil); why = "primary"
  end
end
local last = redis.call("ZRANGE", entries, -1, -1, "WITHSCORES")
if last[2] and tonumber(last[2]) + requestGap > at then at = tonumber(last[2]) + requestGap; why = "spacing" end
if isContent then
  local lastContent = redis.call("ZRANGE", content, -1, -1, "WITHSCORES")
  if lastContent[2] and tonumber(lastContent[2]) + writeGap > at then
    at = tonumber(lastContent[2]) + writeGap; why = "spacing"
  end
end
local function oldest(key, from)
  local first = redis.call("ZRANGEBYSCORE", key, "(" .. from, at, "WITHSCORES", "LIMIT", 0, 1)
  return tonumber(first[2])
end
while true do
  local moved = false
  local window = redis.call("ZRANGEBYSCORE", entries, "(" .. (at - MINUTE), at, "WITHSCORES")
  if #window > 0 then
    local sum = 0
    for i = 1, #window, 2 do sum = sum + tonumber(string.match(window[i], ":(%d+)$")) end
    if sum + points > ppm then at = tonumber(window[2]) + MINUTE; why = "points"; moved = true end
  end
  if isContent and not moved then
    local perMinute = redis.call("ZCOUNT", content, "(" .. (at - MINUTE), at)
    if perMinute > 0 and perMinute + 1 > cpm then
      at = oldest(content, at - MINUTE) + MINUTE; why = "content"; moved = true
    else
      local perHour = redis.call("ZCOUNT", content, "(" .. (at - HOUR), at)
      if perHour > 0 and perHour + 1 > cph then
        at = oldest(content, at - HOUR) + HOUR; why = "content"; moved = true
      end
    end
  end
  if not moved then break end
end
local id = redis.call("HINCRBY", state, "seq", 1) .. ":" .. points
redis.call("ZADD", entries, at, id)
local keep = at - now + HOUR + MINUTE
if redis.call("PTTL", entries) < keep then redis.call("PEXPIRE", entries, keep) end
if isContent then
  redis.call("ZADD", content, at, id)
  if redis.call("PTTL", content) < keep then redis.call("PEXPIRE", content, keep) end
end
if redis.call("PTTL", state) < 86400000 then redis.call("PEXPIRE", state, 86400000) end
return { id, tostring(at), why }
`

/** KEYS: entries, content. ARGV: id. */
export const release = `
redis.call("ZREM", KEYS[1], ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return 1
`

/** KEYS: state. ARGV: until. A pause is never shortened. */
export const pause = `
local current = tonumber(redis.call("HGET", KEYS[1], "pausedUntil") or "0") or 0
local untilAt = tonumber(ARGV[1])
if untilAt > current then redis.call("HSET", KEYS[1], "pausedUntil", ARGV[1]) end
if redis.call("PTTL", KEYS[1]) < 86400000 then redis.call("PEXPIRE", KEYS[1], 86400000) end
return 1
`

/** KEYS: state. ARGV: resource, reading JSON (with blockedUntil). */
export const record = `
redis.call("HSET", KEYS[1], "r:" .. ARGV[1], ARGV[2])
if redis.call("PTTL", KEYS[1]) < 86400000 then redis.call("PEXPIRE", KEYS[1], 86400000) end
return 1
`

/**
 * A stored token is "<fence>.<expiresAtMs>.<ciphertext>": the fence and expiry are not secret, and let the
 * scripts decide without the key.
 *
 * KEYS: token, lock, fence counter. ARGV: goodAfter, owner nonce, lock ttl (ms).
 * Returns { 0, entry } (a token good after goodAfter), { 1, owner } (the lock is ours: mint), { 2, pttl } (held).
 */
export const acquire = `
local entry = redis.call("GET", KEYS[1])
if entry then
  local expires = tonumber(string.match(entry, "^%d+%.(%d+)%."))
  if expires and expires > tonumber(ARGV[1]) then return { 0, entry } end
end
if redis.call("EXISTS", KEYS[2]) == 1 then return { 2, tostring(redis.call("PTTL", KEYS[2])) } end
local fence = redis.call("INCR", KEYS[3])
redis.call("PEXPIRE", KEYS[3], 86400000)
local owner = ARGV[2] .. ":" .. fence
redis.call("SET", KEYS[2], owner, "PX", ARGV[3])
return { 1, owner }
`

/**
 * KEYS: token, lock. ARGV: owner, fence, entry, ttl (ms), channel, key.
 * Writes the token while the lock is ours; after it expired, only if no lock is held and no newer fence wrote.
 * Frees the lock and wakes the waiters. Returns 1 when written.
 */
export const store = `
local holder = redis.call("GET", KEYS[2])
local write = false
if holder == ARGV[1] then
  write = true
  redis.call("DEL", KEYS[2])
elseif not holder then
  local current = redis.call("GET", KEYS[1])
  local fence = current and tonumber(string.match(current, "^(%d+)%."))
  write = (not fence) or fence < tonumber(ARGV[2])
end
if write and tonumber(ARGV[4]) > 0 then redis.call("SET", KEYS[1], ARGV[3], "PX", ARGV[4]) end
redis.call("PUBLISH", ARGV[5], ARGV[6])
if write then return 1 end
return 0
`

/** KEYS: lock. ARGV: owner, channel, key. Compare-and-delete, then wake the waiters (one of them mints). */
export const unlock = `
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
redis.call("PUBLISH", ARGV[2], ARGV[3])
return 1
`

/** KEYS: lock. ARGV: owner, ttl (ms). A live holder keeps its lock; a dead one's expires. */
export const extend = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0
`
