-- spamguard's server-side script: every read a comment needs, the rate
-- check (GCRA on the server's clock), learning, and the small atomic
-- updates, dispatched by ARGV[1]. KEYS[1] is the namespace's meta key; the
-- other keys share its hash tag (ARGV[2] is the prefix "sg:{NAME}:").
-- Layout: see redis_store.cc.
local op, P = ARGV[1], ARGV[2]
local TK, TKS = P .. 'tk', P .. 'tks'

local function be(n, w)
  local s = {}
  for i = w, 1, -1 do
    s[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(s)
end
local function unbe(s)
  local n = 0
  for i = 1, #s do n = n * 256 + string.byte(s, i) end
  return n
end
local function cmp(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  if #a == #b then return 0 end
  return #a < #b and -1 or 1
end
local function mask(addr, plen)
  local out = {}
  for i = 1, #addr do
    local bits = plen - (i - 1) * 8
    local byte = string.byte(addr, i)
    if bits >= 8 then
      out[i] = string.char(byte)
    elseif bits <= 0 then
      out[i] = '\0'
    else
      out[i] = string.char(bit.band(byte, 256 - 2 ^ (8 - bits)))
    end
  end
  return table.concat(out)
end
local function fmt(x) return string.format('%.17g', x) end
local function count(x)
  x = tonumber(x)
  if x == nil or x ~= x or x == math.huge or x <= 0 then return 0 end
  return x
end

-- List entries. A bucket holds entries added together (one add, or one
-- import of a source); its registry line is "LIST\tIP\tEXPIRES\tSOURCE".
local buckets = {}
local function bucket(b)
  local c = buckets[b]
  if c ~= nil then return c end
  local v = redis.call('HGET', P .. 'bk', b)
  c = false
  if v then
    local l, ip, x, src = string.match(v, '^(%d+)\t(%d)\t(%d+)\t(.*)$')
    if l then c = {tonumber(l), ip, tonumber(x), src} end
  end
  buckets[b] = c
  return c
end
-- The entry a 12-byte reference (bucket, id) names, when alive at now:
-- {id, list, kind, what, source, reason, added, expires}.
local function entry(ref, now)
  if #ref ~= 12 then return nil end
  local b = tostring(unbe(string.sub(ref, 1, 4)))
  local bk = bucket(b)
  if not bk then return nil end
  if bk[3] ~= 0 and bk[3] <= now then return nil end
  local d = redis.call('HGET', P .. 'd:' .. b, string.sub(ref, 5, 12))
  if not d or #d < 11 then return nil end
  local wl = unbe(string.sub(d, 10, 11))
  return {unbe(string.sub(ref, 5, 12)), bk[1], string.byte(d, 1), string.sub(d, 12, 11 + wl), bk[4],
          string.sub(d, 12 + wl), unbe(string.sub(d, 2, 9)), bk[3]}
end
local function match_ip(l, fam, addr, now)
  local w = #addr
  local r = redis.call('ZREVRANGEBYLEX', P .. 'ipx:' .. l .. ':' .. fam, '[' .. addr .. string.rep('\255', w + 12),
                       '-', 'LIMIT', 0, 1)
  if #r == 0 then return nil end
  local m = r[1]
  if cmp(string.sub(m, w + 1, 2 * w), addr) < 0 then return nil end
  local e = entry(string.sub(m, 2 * w + 1), now)
  if e then return e end
  -- The entry the index names is gone or expired: the most specific live
  -- block holding the address, prefix by prefix.
  local key = P .. 'ipe:' .. l .. ':' .. fam
  for plen = w * 8, 0, -1 do
    local net = mask(addr, plen)
    local ms = redis.call('ZRANGEBYLEX', key, '[' .. net .. string.char(plen), '(' .. net .. string.char(plen + 1))
    for _, mm in ipairs(ms) do
      e = entry(string.sub(mm, w + 2), now)
      if e then return e end
    end
  end
  return nil
end
local function match_name(l, k, v, now)
  local best
  for _, m in ipairs(redis.call('SMEMBERS', P .. 'n:' .. l .. ':' .. k .. ':' .. v)) do
    local e = entry(m, now)
    if e and (not best or e[1] < best[1]) then best = e end
  end
  return best
end
local function entry_reply(e, field)
  return {1, e[2], field, e[1], e[3], e[4], e[5], e[6], e[7], e[8]}
end

local function learner()
  local v = redis.call('HMGET', P .. 'meta', 'spam', 'ham', 'lv')
  return {math.max(0, tonumber(v[1]) or 0), math.max(0, tonumber(v[2]) or 0), redis.call('HLEN', TK),
          tonumber(v[3]) or 0}
end

-- Rate limits: GCRA. A key's state is "TAT OVER_SINCE LAST_OVER KEEP" (the
-- theoretical arrival time, the start of the spell over the limit, the last
-- refusal, and until when the state means anything), all in ms on the
-- server's clock, as a field of its group's hash rg:GROUP (the keys of one
-- comment share a group: one read and one write for all of them). A group
-- lives by TTL past its last write; a state past its KEEP is the same as
-- none, and is swept from its group now and then.
local function parse_rate(v)
  if not v then return nil end
  local t, os, lo, k = string.match(v, '^(%-?%d+) (%-?%d+) (%-?%d+) ?(%-?%d*)$')
  if not t then return nil end
  t = tonumber(t)
  return {t, tonumber(os) or 0, tonumber(lo) or 0, tonumber(k) or t}
end
local function rate_value(tat, os, lo, period)
  local keep = tat
  if lo ~= 0 and lo + period > keep then keep = lo + period end
  return string.format('%d %d %d %d', tat, os, lo, keep)
end
-- Drops from group g those of the states kv (key, state, ...) whose KEEP
-- is at or before `before`; their number.
local function drop_past(g, kv, before)
  local dead = {}
  for i = 1, #kv - 1, 2 do
    local v = parse_rate(kv[i + 1])
    if not v or v[4] <= before then dead[#dead + 1] = kv[i] end
  end
  for i = 1, #dead, 1000 do redis.call('HDEL', g, unpack(dead, i, math.min(#dead, i + 999))) end
  return #dead
end
-- Drops the states past their KEEP from a group: all of a small one, a
-- slice of a big one (from a cursor that moves with the clock).
local function sweep(g, now)
  return drop_past(g, redis.call('HSCAN', g, tostring(now % 1048576), 'COUNT', 64)[2], now)
end
-- ARGV from b: server clock (1/0), now, clock, the groups' TTL (ms), then
-- per key: group, key, interval, tolerance, period.
local function rate_check(b)
  local now, clock = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  if ARGV[b] == '1' then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    clock = now
  end
  local ttl = tonumber(ARGV[b + 3])
  local n = (#ARGV - b - 3) / 5
  local groups, order, gof, fields = {}, {}, {}, {}
  for i = 1, n do
    local base = b + 3 + (i - 1) * 5
    local g = P .. 'rg:' .. ARGV[base + 1]
    local e = groups[g]
    if not e then
      e = {}
      groups[g] = e
      order[#order + 1] = g
    end
    e[#e + 1] = i
    gof[i] = g
    fields[i] = ARGV[base + 2]
  end
  local got = {}
  for _, g in ipairs(order) do  -- every key's state, one read per group
    local fs = {}
    for j, i in ipairs(groups[g]) do fs[j] = fields[i] end
    local vs = redis.call('HMGET', g, unpack(fs))
    for j, i in ipairs(groups[g]) do got[i] = vs[j] end
  end
  local tats, rows = {}, {}
  for i = 1, n do
    local base = b + 3 + (i - 1) * 5
    local interval, tol, period = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5])
    local v = parse_rate(got[i])
    local tat, t_now = now, now
    if v then
      tat = v[1]
      if clock >= 0 then tat = math.min(tat, clock + tol + interval) end
      t_now = math.max(now, tat - tol - interval)
    end
    local base_t = math.max(tat, t_now)
    if base_t - tol > t_now then
      local os, lo = v and v[2] or 0, v and v[3] or 0
      if os == 0 or now - lo > period or now < lo then os = now end
      redis.call('HSET', gof[i], fields[i], rate_value(tat, os, now, period))
      redis.call('PEXPIRE', gof[i], ttl)
      return {0, i - 1, base_t - tol - t_now, os, now}
    end
    tats[i] = base_t + interval
    rows[i] = {v, period}
  end
  for _, g in ipairs(order) do  -- allowed: every key charged, one write per group
    local fv = {}
    for _, i in ipairs(groups[g]) do
      local v, period = rows[i][1], rows[i][2]
      fv[#fv + 1] = fields[i]
      fv[#fv + 1] = rate_value(tats[i], v and v[2] or 0, v and v[3] or 0, period)
    end
    local added = redis.call('HSET', g, unpack(fv))
    redis.call('PEXPIRE', g, ttl)
    if added > 0 and now % 16 == 0 then sweep(g, now) end
  end
  return {1, 0, 0, 0, now}
end

if op == 'rate' then return rate_check(3) end

if op == 'lookup' then
  -- ARGV: now, fam ('' none), addr, email, n, email domains..., n, url
  -- domains..., n, reputation keys..., want learner, then (optional) the
  -- rate check's arguments, checked when the comment is on no list
  local now = tonumber(ARGV[3])
  local fam, addr, email = ARGV[4], ARGV[5], ARGV[6]
  local i = 7
  local ed, ud, rk = {}, {}, {}
  for _, t in ipairs({ed, ud, rk}) do
    local n = tonumber(ARGV[i])
    for j = 1, n do t[j] = ARGV[i + j] end
    i = i + n + 1
  end
  local want_learner = ARGV[i] == '1'
  local rate_at = i + 1
  -- One read of the namespace's meta hash: the keyword version, the
  -- learner's totals, and which lists hold entries of which kind (a probe of
  -- an empty one is skipped).
  local m = redis.call('HMGET', P .. 'meta', 'kwv', 'spam', 'ham', 'tokens', 'lv', 'h:1:' .. fam, 'h:2:' .. fam,
                       'n:1:1', 'n:1:2', 'n:1:3', 'n:2:1', 'n:2:2', 'n:2:3')
  for li, l in ipairs({1, 2}) do
    if fam ~= '' and m[5 + li] then
      local e = match_ip(l, fam, addr, now)
      if e then return entry_reply(e, 'ip') end
    end
    local base = 7 + (li - 1) * 3
    if email ~= '' and m[base + 1] then
      local e = match_name(l, 1, email, now)
      if e then return entry_reply(e, 'email') end
    end
    if m[base + 2] then
      for _, d in ipairs(ed) do
        local e = match_name(l, 2, d, now)
        if e then return entry_reply(e, 'email') end
      end
    end
    if m[base + 3] then
      for _, d in ipairs(ud) do
        local e = match_name(l, 3, d, now)
        if e then return entry_reply(e, 'url') end
      end
    end
  end
  local out = {0, 0, 0, 0, 0, tonumber(m[1]) or 0}
  if want_learner then
    out[2], out[3] = math.max(0, tonumber(m[2]) or 0), math.max(0, tonumber(m[3]) or 0)
    out[4], out[5] = math.max(0, tonumber(m[4]) or 0), tonumber(m[5]) or 0
  end
  for _, k in ipairs(rk) do
    local v = redis.call('HMGET', P .. 'r:' .. k, 's', 'h', 'u')
    out[#out + 1] = v[1] or '0'
    out[#out + 1] = v[2] or '0'
    out[#out + 1] = v[3] or '0'
  end
  if #ARGV >= rate_at + 8 then out[#out + 1] = rate_check(rate_at) end
  return out
end

if op == 'matchip' then  -- now, list, fam, addr
  local e = match_ip(tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[3]))
  return e and entry_reply(e, 'ip') or {0}
end

if op == 'matchname' then  -- now, list, kind, candidates...
  for i = 6, #ARGV do
    local e = match_name(tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[i], tonumber(ARGV[3]))
    if e then return entry_reply(e, 'name') end
  end
  return {0}
end

if op == 'entries' then  -- now, refs...: each entry whatever its expiry (0 when gone)
  local out = {}
  for i = 4, #ARGV do
    local e = entry(ARGV[i], -1)
    if e then
      out[#out + 1] = entry_reply(e, '')
    else
      out[#out + 1] = {0}
    end
  end
  return out
end

-- Reputation: one hash per key (s, h, u), and every key by its last change
-- (for pruning).
local function decay(now, at, hl)
  local elapsed = now - at
  if not (hl > 0) or not (elapsed > 0) then return 1 end
  return 2 ^ (-elapsed / hl)
end
local function apply_rep(keys, label, weight, now, hl)
  for _, k in ipairs(keys) do
    local key = P .. 'r:' .. k
    local v = redis.call('HMGET', key, 's', 'h', 'u')
    local s, h = count(v[1]), count(v[2])
    if v[3] then
      local f = decay(now, tonumber(v[3]) or now, hl)
      s, h = s * f, h * f
    end
    if label == 1 then s = s + weight else h = h + weight end
    redis.call('HSET', key, 's', fmt(count(s)), 'h', fmt(count(h)), 'u', now)
    redis.call('ZADD', P .. 'ru', now, k)
  end
end

-- The learner: token counts "SPAM HAM" by 8-byte hash, the serial of each
-- token's last learn (the stalest go first), totals.
local function apply_tokens(tokens, label, sign, serial)
  for i = 1, #tokens - 7, 8 do
    local h = string.sub(tokens, i, i + 7)
    local v = redis.call('HGET', TK, h)
    local s, m = 0, 0
    if v then
      local a, b = string.match(v, '^(%d+) (%d+)$')
      s, m = tonumber(a) or 0, tonumber(b) or 0
    end
    if sign > 0 then
      if label == 1 then s = s + 1 else m = m + 1 end
      redis.call('HSET', TK, h, s .. ' ' .. m)
      redis.call('ZADD', TKS, serial, h)
    elseif v then
      if label == 1 then s = math.max(0, s - 1) else m = math.max(0, m - 1) end
      if s == 0 and m == 0 then
        redis.call('HDEL', TK, h)
        redis.call('ZREM', TKS, h)
      else
        redis.call('HSET', TK, h, s .. ' ' .. m)
      end
    end
  end
end
local function take_back(row, now, hl, serial)
  local keys = cmsgpack.unpack(row[2])
  local label = tonumber(row[1])
  apply_rep(keys, label, -decay(now, tonumber(row[3]) or now, hl), now, hl)
  if row[5] == '1' then apply_tokens(row[4] or '', label, -1, serial) end
  redis.call('HINCRBY', P .. 'meta', label == 1 and 'spam' or 'ham', -1)
  redis.call('HINCRBY', P .. 'lcnt', label, -1)
end
local function fix_totals()
  local L = P .. 'meta'
  for _, f in ipairs({'spam', 'ham'}) do
    if (tonumber(redis.call('HGET', L, f)) or 0) < 0 then redis.call('HSET', L, f, 0) end
  end
  redis.call('HINCRBY', L, 'lv', 1)
  redis.call('HSET', L, 'tokens', redis.call('HLEN', TK))
end

if op == 'learn' then  -- cid, label, now, half-life, max tokens, tokens, keys...
  local cid, label, now, hl, max = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
  local tokens = ARGV[8]
  local keys = {}
  for i = 9, #ARGV do keys[#keys + 1] = ARGV[i] end
  local LK = P .. 'l:' .. cid
  local row = redis.call('HMGET', LK, 'lb', 'k', 'at', 't', 'ht')
  if row[1] and tonumber(row[1]) == label then return 0 end
  local serial = redis.call('HINCRBY', P .. 'meta', 'serial', 1)
  if row[1] then take_back(row, now, hl, serial) end
  apply_rep(keys, label, 1, now, hl)
  apply_tokens(tokens, label, 1, serial)
  redis.call('HINCRBY', P .. 'meta', label == 1 and 'spam' or 'ham', 1)
  redis.call('HINCRBY', P .. 'lcnt', label, 1)
  if max > 0 then
    local n = redis.call('HLEN', TK)
    if n > max then
      -- Down to 90% of the bound, so that expiry runs once per many learns.
      local gone = redis.call('ZPOPMIN', TKS, n - max + math.floor(max / 10))
      for i = 1, #gone, 2 do redis.call('HDEL', TK, gone[i]) end
    end
  end
  fix_totals()
  redis.call('HSET', LK, 'lb', label, 'k', cmsgpack.pack(keys), 'at', now, 't', tokens, 'ht', '1')
  redis.call('ZADD', P .. 'lat', now, cid)
  return row[1] and 2 or 1
end

if op == 'forget' then  -- cid, now, half-life
  local LK = P .. 'l:' .. ARGV[3]
  local row = redis.call('HMGET', LK, 'lb', 'k', 'at', 't', 'ht')
  if not row[1] then return 0 end
  local serial = tonumber(redis.call('HGET', P .. 'meta', 'serial')) or 0
  take_back(row, tonumber(ARGV[4]), tonumber(ARGV[5]), serial)
  fix_totals()
  redis.call('DEL', LK)
  redis.call('ZREM', P .. 'lat', ARGV[3])
  return 1
end

if op == 'tokens' then  -- tokens (8 bytes each): totals, then "SPAM HAM" or false per token
  local t = learner()
  local out = {t[1], t[2], t[3], t[4]}
  if t[1] == 0 or t[2] == 0 then return out end
  local tokens = ARGV[3]
  for i = 1, #tokens - 7, 8 do out[#out + 1] = redis.call('HGET', TK, string.sub(tokens, i, i + 7)) or '' end
  return out
end

if op == 'alltokens' then
  local t = learner()
  return {t[1], t[2], t[3], t[4], redis.call('HGETALL', TK)}
end

if op == 'peek' then  -- group, key pairs
  local out = {}
  for i = 3, #ARGV - 1, 2 do
    local v = parse_rate(redis.call('HGET', P .. 'rg:' .. ARGV[i], ARGV[i + 1]))
    out[#out + 1] = v and string.format('%d', v[1]) or ''
  end
  return out
end

if op == 'ratesweep' then  -- before (ms), groups...: the states whose KEEP is before it dropped
  local n, before = 0, tonumber(ARGV[3])
  for i = 4, #ARGV do
    local g = P .. 'rg:' .. ARGV[i]
    n = n + drop_past(g, redis.call('HGETALL', g), before)
  end
  return n
end

if op == 'use' then  -- key, expires (unix s)
  local key, x = P .. 'fu:' .. ARGV[3], tonumber(ARGV[4])
  local n = redis.call('HINCRBY', key, 'n', 1)
  local old = tonumber(redis.call('HGET', key, 'x')) or 0
  if x > old then
    redis.call('HSET', key, 'x', x)
    old = x
  end
  redis.call('EXPIREAT', key, old + 1)
  return n
end

if op == 'fsadd' then  -- key, now, keep seconds, first only
  local FS = P .. 'fs'
  if ARGV[6] == '1' and redis.call('HLEN', FS) > 0 then return 0 end
  local now, keep = tonumber(ARGV[4]), tonumber(ARGV[5])
  local id = redis.call('HINCRBY', P .. 'meta', 'fsid', 1)
  redis.call('HSET', FS, id, be(now, 8) .. ARGV[3])
  -- A secret replaced more than `keep` ago verifies nothing still young.
  local all = redis.call('HGETALL', FS)
  local rows = {}
  for i = 1, #all, 2 do rows[#rows + 1] = {tonumber(all[i]), unbe(string.sub(all[i + 1], 1, 8))} end
  table.sort(rows, function(a, b) return a[1] < b[1] end)
  for i = 1, #rows - 1 do
    local replaced = rows[i + 1][2]
    for j = i + 2, #rows do replaced = math.min(replaced, rows[j][2]) end
    if replaced < now - keep then redis.call('HDEL', FS, rows[i][1]) end
  end
  return 1
end

if op == 'keywords' then  -- kind ('0': only the version)
  local out = {tonumber(redis.call('HGET', P .. 'meta', 'kwv')) or 0}
  if ARGV[3] == '0' then return out end
  for _, src in ipairs(redis.call('SMEMBERS', P .. 'kwsrc')) do
    out[#out + 1] = src
    out[#out + 1] = redis.call('HGETALL', P .. 'kw:' .. ARGV[3] .. ':' .. src)
  end
  return out
end

if op == 'prune' then  -- before: learned comments and reputation keys not changed since, 1000 at a time
  local before = tonumber(ARGV[3])
  local learned, rep = 0, 0
  for _, cid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'lat', '-inf', '(' .. before, 'LIMIT', 0, 1000)) do
    local lb = redis.call('HGET', P .. 'l:' .. cid, 'lb')
    if lb then redis.call('HINCRBY', P .. 'lcnt', lb, -1) end
    redis.call('DEL', P .. 'l:' .. cid)
    redis.call('ZREM', P .. 'lat', cid)
    learned = learned + 1
  end
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', P .. 'ru', '-inf', '(' .. before, 'LIMIT', 0, 1000)) do
    redis.call('DEL', P .. 'r:' .. k)
    redis.call('ZREM', P .. 'ru', k)
    rep = rep + 1
  end
  return {learned, rep}
end

if op == 'repsum' then
  local s, h, n = 0, 0, 0
  for _, k in ipairs(redis.call('ZRANGE', P .. 'ru', 0, -1)) do
    local v = redis.call('HMGET', P .. 'r:' .. k, 's', 'h')
    s, h, n = s + count(v[1]), h + count(v[2]), n + 1
  end
  return {n, fmt(s), fmt(h)}
end

return redis.error_reply('spamguard: unknown script operation ' .. tostring(op))
