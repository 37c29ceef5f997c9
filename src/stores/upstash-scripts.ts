/**
 * The Lua scripts of the Upstash store. Each reads the envelope header with a pattern anchored at the
 * start of the stored string, so a value is never decoded or re-encoded. A key of another type (or a
 * value that is not ours) counts as an older entry and is overwritten. Versions are formatted with
 * `%.0f`: Lua numbers are doubles, exact up to 2^53, and `tostring` would print them in exponent form.
 */

const HEADER = `'^{"writtenAt":(%d+),"freshUntil":(%d+),"version":(%d+),"value":'`;

export const SET_IF_NOT_NEWER = `
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'string' then
  local w, f, v = string.match(cur, ${HEADER})
  if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

/**
 * KEYS: entry, done mark, lock. ARGV: entry, version, entry ttl, done ttl, lock token. Writes the entry
 * unless a newer one is stored, marks the refresh done, releases the lock if it holds the token; returns
 * whether it wrote.
 */
export const FINISH_REFRESH = `
local wrote = 1
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'string' then
  local w, f, v = string.match(cur, ${HEADER})
  if v and tonumber(v) > tonumber(ARGV[2]) then wrote = 0 end
end
if wrote == 1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
return wrote`;

export const MARK_STALE = `
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then return 0 end
local w, f, v = string.match(cur, ${HEADER})
if not w then return 0 end
local head = '{"writtenAt":' .. w .. ',"freshUntil":' .. f .. ',"version":' .. v .. ','
local nv = v
if tonumber(ARGV[1]) > tonumber(v) then nv = ARGV[1] end
redis.call('SET', KEYS[1], '{"writtenAt":' .. w .. ',"freshUntil":0,"version":' .. nv .. ',' .. string.sub(cur, #head + 1), 'KEEPTTL')
return 1`;

export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Advances the clock in KEYS[1]: one more than its last value, at least ARGV[1]; it lives ARGV[2] ms. */
export const TICK = `
local function tick()
  local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
  local v = last + 1
  local floor = tonumber(ARGV[1])
  if floor > v then v = floor end
  redis.call('SET', KEYS[1], string.format('%.0f', v), 'PX', ARGV[2])
  return v
end`;

/**
 * KEYS: clock, entry (or none), stamps... ARGV: floor, clock ttl, has-entry (1/0).
 * Returns { version as text, entry or false, stamp or false... }.
 */
export const NEXT_VERSION = `${TICK}
local v = tick()
local out = { string.format('%.0f', v) }
for i = 2, #KEYS do out[#out + 1] = redis.call('GET', KEYS[i]) end
return out`;

/**
 * `stamp(key, kind, expireAt, v, ttl)`: applies one change (`kind` 'stale', 'expire' or 'pages';
 * `expireAt` in ms, '0' for none) at version `v` (text) to the stamp under `key`, which then lives `ttl`
 * ms (`applyStampChange`). Reads stamps of both formats (four fields, or five).
 */
export const APPLY_STAMP = `
local function stamp(key, kind, expireAt, v, ttl)
  local s, e, lv, la, p = '0', '0', '0', '0', '0'
  local cur = redis.call('GET', key)
  if type(cur) == 'string' then
    local a, b, c, d, f = string.match(cur, '^%[(%d+),(%d+),(%d+),(%d+),?(%d*)%]$')
    if a then
      s, e, lv, la = a, b, c, d
      if f ~= '' then p = f end
    end
  end
  if kind == 'expire' then
    e = v
  elseif kind == 'pages' then
    p = v
  else
    s = v
    if expireAt ~= '0' then lv = v; la = expireAt end
  end
  redis.call('SET', key, '[' .. s .. ',' .. e .. ',' .. lv .. ',' .. la .. ',' .. p .. ']', 'PX', ttl)
end`;

/**
 * KEYS: clock, stamps... ARGV: floor, clock ttl, kind ('stale', 'expire' or 'pages'), expireAt (ms, 0
 * for none), stamp ttl. Applies the change at the new version to every stamp (`applyStampChange`);
 * returns the version as text.
 */
export const STAMP_TAGS = `${TICK}${APPLY_STAMP}
local v = string.format('%.0f', tick())
for i = 2, #KEYS do stamp(KEYS[i], ARGV[3], ARGV[4], v, ARGV[5]) end
return v`;
