import { APPLY_STAMP, TICK } from "../stores/upstash-scripts.js";

/**
 * The cache handler's Lua scripts: one per operation, so `get`, `set` and `updateTags` are one round trip
 * each. Versions are formatted with `%.0f` (Lua numbers are doubles, exact up to 2^53).
 *
 * The read script reads keys it does not declare in KEYS: the stamps of the entry's own tags, which are
 * known only once the entry is read. That is allowed under Upstash's default script isolation, the global
 * lock ("the engine cannot know in advance which keys the script will touch"). These scripts must NOT
 * carry the `allow-key-locking` flag, which restricts a script to its declared keys. No TIME or random
 * inside: the caller passes the time and the lock token (Upstash asks scripts to be deterministic).
 */

/**
 * KEYS: entry, lock, clock, soft-tag stamps... ARGV: stamp key prefix (`<prefix>tag:`), now (ms), lock
 * token, lock ttl (ms), minimum expire (s).
 * Returns { state, 1 when the lock was taken else 0, the clock's value, entry text or false, '#' .. tag
 * or false }, where state is absent, unreadable, evicted, expired, tag-expired, fresh or stale
 * (`judgeEntry` decides the same way). The lock is tried only for a stale entry. Every text in the answer
 * is written as JSON (a quoted string), so a client that decodes JSON answers (as `@upstash/redis` does by
 * default) decodes it in one step instead of failing on it, and one that does not gets it quoted.
 */
export const READ_ENTRY = `
local ESCAPES = { ['\\\\'] = '\\\\\\\\', ['"'] = '\\\\"', ['\\n'] = '\\\\n', ['\\t'] = '\\\\t' }
local function json(s)
  return '"' .. (string.gsub(s, '[\\\\"%c]', function(c) return ESCAPES[c] or string.format('\\\\u%04x', string.byte(c)) end)) .. '"'
end
local function text(key)
  local v = redis.pcall('GET', key)
  if type(v) == 'string' then return v end
  return nil
end
local clock = text(KEYS[3]) or '0'
local cur = text(KEYS[1])
if not cur then return {'"absent"', 0, clock} end
local v, ts, rv, ex, pos = string.match(cur, '^cbh1 (%d+)\\n{"timestamp":([^,]+),"revalidate":([^,]+),"expire":([^,]+),"stale":[^}\\n]+}\\n()')
v, ts, rv, ex = tonumber(v), tonumber(ts), tonumber(rv), tonumber(ex)
if not (v and ts and rv and ex) then return {'"unreadable"', 0, clock} end
if ex < 0 then return {'"evicted"', 0, clock} end
local now = tonumber(ARGV[2])
local life = ex
if tonumber(ARGV[5]) > life then life = tonumber(ARGV[5]) end
if now > ts + life * 1000 then return {'"expired"', 0, clock} end
local staleTag = nil
local function expires(tag, s)
  if not s then return false end
  local a, b, c, d, e = string.match(s, '^%[(%d+),(%d+),(%d+),(%d+),?(%d*)%]$')
  if not a then return false end
  if tonumber(b) > v or (tonumber(c) > v and tonumber(d) <= now) then return true end
  if not staleTag and (tonumber(a) > v or (e ~= '' and tonumber(e) > v)) then staleTag = tag end
  return false
end
local at = pos
while true do
  local nl = string.find(cur, '\\n', at, true)
  if not nl or nl == at then break end
  local tag = string.sub(cur, at, nl - 1)
  if expires(tag, text(ARGV[1] .. tag)) then return {'"tag-expired"', 0, clock, false, json('#' .. tag)} end
  at = nl + 1
end
for i = 4, #KEYS do
  local tag = string.sub(KEYS[i], #ARGV[1] + 1)
  if expires(tag, text(KEYS[i])) then return {'"tag-expired"', 0, clock, false, json('#' .. tag)} end
end
if staleTag or now > ts + rv * 1000 then
  local won = 0
  if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then won = 1 end
  if staleTag then staleTag = json('#' .. staleTag) else staleTag = false end
  return {'"stale"', won, clock, json(cur), staleTag}
end
return {'"fresh"', 0, clock, json(cur)}`;

/**
 * KEYS: entry, lock, clock. ARGV: the stored text after `cbh1 <version>`, the version ('' to take the
 * clock's value, capped by the next argument), the cap, ttl (ms), lock token ('' for none), '1' to evict.
 * Releases the lock when it holds the token; writes unless the stored entry has a newer version.
 * Returns { 1 when written else 0, the version as text }.
 */
export const WRITE_ENTRY = `
local v = tonumber(ARGV[2])
if not v then
  local c = redis.pcall('GET', KEYS[3])
  v = (type(c) == 'string' and tonumber(c)) or 0
  local cap = tonumber(ARGV[3])
  if cap < v then v = cap end
end
local vs = string.format('%.0f', v)
if ARGV[5] ~= '' and redis.pcall('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[1])
  return {0, vs}
end
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'string' then
  local cv = string.match(cur, '^cbh1 (%d+)\\n')
  if cv and tonumber(cv) > v then return {0, vs} end
end
redis.call('SET', KEYS[1], 'cbh1 ' .. vs .. ARGV[1], 'PX', ARGV[4])
return {1, vs}`;

/**
 * KEYS: clock, stamps... ARGV: floor, clock ttl, stamp ttl, then for each stamp its kind ('stale',
 * 'expire' or 'pages') and expireAt (ms, '0' for none). Applies every change at one new version of the
 * clock (`applyStampChange`); returns the version as text.
 */
export const STAMP_EACH = `${TICK}${APPLY_STAMP}
local v = string.format('%.0f', tick())
for i = 2, #KEYS do stamp(KEYS[i], ARGV[2 + 2 * (i - 1)], ARGV[3 + 2 * (i - 1)], v, ARGV[3]) end
return v`;
