import RedisClient

/// The Lua scripts of the Redis store. Each runs atomically on the server, on the server's
/// clock (`TIME`), so workers with skewed clocks still share one window. Versioned with the
/// keys (``RedisKeys/prefix``): a changed script gets a new SHA-1 and coexists with the old.
enum RedisScripts {
    /// The server clock: `stamp` (µs as text), `nowus`, `now` (ms), `sec`; `exact`: up to this
    /// rpm the window is a sorted set of admissions (exact), above it the per-second buckets
    /// (as the embedded store does).
    static let clock = #"""
        local t = redis.call('TIME')
        local stamp = t[1] .. string.rep('0', 6 - #t[2]) .. t[2]
        local nowus = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local now = math.floor(nowus / 1000)
        local sec = tonumber(t[1])
        local exact = \#(EmbeddedStateStore.exactRequestLimit)

        """#

    /// The usage hash keeps running totals (`T` tokens, `R` requests) beside its per-second
    /// buckets; `advance` drops the buckets that left the 60-s window (from `lo`, the oldest
    /// still counted) and takes them off the totals: O(1) per second, not per call.
    static let advance = #"""
        local function advance(uk)
          local lo = redis.call('HGET', uk, 'lo')
          if not lo then return end
          lo = tonumber(lo)
          if lo > sec - 60 then return end
          if sec - lo >= 120 then
            redis.call('DEL', uk)
            return
          end
          local dt, dr = 0, 0
          for s = lo, sec - 60 do
            local f = string.format('%d', s)
            local v = redis.call('HMGET', uk, f, f .. 'r')
            if v[1] then dt = dt + tonumber(v[1]) end
            if v[2] then dr = dr + tonumber(v[2]) end
            if v[1] or v[2] then redis.call('HDEL', uk, f, f .. 'r') end
          end
          if dt ~= 0 then redis.call('HINCRBY', uk, 'T', -dt) end
          if dr ~= 0 then redis.call('HINCRBY', uk, 'R', -dr) end
          redis.call('HSET', uk, 'lo', sec - 59)
        end

        """#

    /// One event loop's settlements and admissions of one tick, in one atomic call (under load
    /// a call costs Redis a share of one script run, not a run of its own: the clock, each
    /// deployment's window and cooldown are read once, and its counters written once). Only
    /// what must be exact is here (windows, failures, cooldowns); in-flight counts and latency
    /// averages are published by each worker with the loads (``loads``).
    ///
    /// KEYS: 4 per deployment block (requests, usage, cooldown, failures).
    /// ARGV: worker nonce, allowed fails, the number of blocks, then rpm and tpm per block
    /// (`-1`: none); the number of settlements, then 5 per settlement (block, second of the
    /// admission, token correction, `c` (a failure that cools at once), `f` (a failure) or `n`,
    /// cooldown ms); the number of admissions, then per admission: tokens, enforce (1/0), its
    /// number of candidates, and their blocks in preference order.
    ///
    /// Settlements are applied first, then admissions are decided one after the other, each
    /// seeing those before it. Returns the call's stamp (Redis microseconds as text), then one
    /// element per admission: the 0-based index of the candidate that took it, or
    /// `{-1, retry-after ms, at rpm, at tpm, cooling}`.
    static let batch = RedisScript(clock + advance + #"""
        local nonce, allowed, D = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local blocks = {}
        -- A deployment's state, read once per call.
        local function block(d)
          local b = blocks[d]
          if b then return b end
          local k = d * 4
          b = {rk = KEYS[k+1], uk = KEYS[k+2], ck = KEYS[k+3], fk = KEYS[k+4],
               rpm = tonumber(ARGV[4 + d*2]), tpm = tonumber(ARGV[5 + d*2]), addR = 0, addT = 0, fixT = 0}
          advance(b.uk)
          local v = redis.call('HMGET', b.uk, 'T', 'R')
          b.T, b.R = tonumber(v[1] or '0'), tonumber(v[2] or '0')
          blocks[d] = b
          return b
        end
        local p = 4 + D * 2
        for j = 1, tonumber(ARGV[p]) do
          local b = block(tonumber(ARGV[p+1]))
          local s, delta, outcome = tonumber(ARGV[p+2]), tonumber(ARGV[p+3]), ARGV[p+4]
          -- The admission's bucket is still counted (advance dropped the older ones): correct
          -- it by the real usage.
          if delta ~= 0 and s > sec - 60 then
            b.fix = b.fix or {}
            b.fix[s] = (b.fix[s] or 0) + delta
            b.fixT = b.fixT + delta
            b.T = b.T + delta
          end
          if outcome ~= 'n' then
            local n = redis.call('INCR', b.fk)
            if n == 1 then redis.call('PEXPIRE', b.fk, 60000) end
            if outcome == 'c' or n > allowed then
              local ms = tonumber(ARGV[p+5])
              if ms > redis.call('PTTL', b.ck) then redis.call('SET', b.ck, '1', 'PX', ms) end
              redis.call('DEL', b.fk)
              b.cd = nil
            end
          end
          p = p + 5
        end
        p = p + 1
        -- Milliseconds until the oldest buckets free enough of field suffix `sfx` (total `total`).
        local function bucketwait(uk, sfx, total, needed, limit)
          if needed > limit then return 60000 end
          local freed = 0
          for s = sec - 59, sec do
            local v = redis.call('HGET', uk, string.format('%d', s) .. sfx)
            if v then freed = freed + tonumber(v) end
            if total - freed + needed <= limit then return math.max(1, (s + 60) * 1000 - now) end
          end
          return 60000
        end
        -- The exact window's count (`zc`, this call's admissions included; `stored`, before).
        local function window(b)
          if b.zc then return end
          redis.call('ZREMRANGEBYSCORE', b.rk, '-inf', string.format('%.0f', nowus - 60000000))
          b.zc = redis.call('ZCARD', b.rk)
          b.stored = b.zc
        end
        local out = {stamp}
        for j = 0, tonumber(ARGV[p]) - 1 do
          local tokens, enforce, n = tonumber(ARGV[p+1]), ARGV[p+2] == '1', tonumber(ARGV[p+3])
          local soonest, atR, atT, cooling = -1, 0, 0, 0
          for i = 0, n - 1 do
            local b = block(tonumber(ARGV[p+4+i]))
            local rpm, tpm = b.rpm, b.tpm
            local wait = 0
            if not b.cd then b.cd = redis.call('PTTL', b.ck) end
            if b.cd > 0 then
              cooling = cooling + 1
              wait = b.cd
            elseif enforce then
              if rpm > exact then
                if b.R + 1 > rpm then
                  atR = atR + 1
                  wait = bucketwait(b.uk, 'r', b.R, 1, rpm)
                end
              elseif rpm >= 0 then
                window(b)
                if b.zc >= rpm then
                  atR = atR + 1
                  wait = 60000
                  -- The admission whose expiry frees a place; one of this call's: a minute.
                  if rpm > 0 and b.zc - rpm < b.stored then
                    local e = redis.call('ZRANGE', b.rk, b.zc - rpm, b.zc - rpm, 'WITHSCORES')
                    if e[2] then wait = math.max(1, math.ceil((tonumber(e[2]) + 60000000 - nowus) / 1000)) end
                  end
                end
              end
              if tpm >= 0 and b.T + tokens > tpm then
                atT = atT + 1
                local w = bucketwait(b.uk, '', b.T, tokens, tpm)
                if w > wait then wait = w end
              end
            end
            if wait <= 0 then
              b.R, b.T = b.R + 1, b.T + tokens
              b.addR, b.addT = b.addR + 1, b.addT + tokens
              if rpm >= 0 and rpm <= exact then
                window(b)
                b.zc = b.zc + 1
                b.window = b.window or {}
                b.window[#b.window + 1] = stamp
                b.window[#b.window + 1] = stamp .. ':' .. j .. ':' .. nonce
              end
              out[j + 2] = i
              break
            end
            if soonest < 0 or wait < soonest then soonest = wait end
          end
          out[j + 2] = out[j + 2] or {-1, soonest, atR, atT, cooling}
          p = p + 3 + n
        end
        for _, b in pairs(blocks) do
          if b.addR > 0 then
            -- The second's first admission starts the window bookkeeping and sets the expiry
            -- (61 s from this second covers every bucket written in it).
            if redis.call('HINCRBY', b.uk, t[1] .. 'r', b.addR) == b.addR then
              redis.call('HSETNX', b.uk, 'lo', t[1])
              redis.call('PEXPIRE', b.uk, 61000)
            end
            redis.call('HINCRBY', b.uk, t[1], b.addT)
            redis.call('HINCRBY', b.uk, 'R', b.addR)
            if b.window then
              redis.call('ZADD', b.rk, unpack(b.window))
              redis.call('PEXPIRE', b.rk, 61000)
            end
          end
          if b.addT + b.fixT ~= 0 then redis.call('HINCRBY', b.uk, 'T', b.addT + b.fixT) end
          if b.fix then
            for s, v in pairs(b.fix) do
              if v ~= 0 then redis.call('HINCRBY', b.uk, string.format('%d', s), v) end
            end
          end
        end
        return out
        """#)

    /// Loads, and this worker's part of them published: KEYS = 4 per deployment (usage,
    /// cooldown, busy, speed); ARGV = worker nonce, how long a published entry lives (ms), then
    /// per deployment this worker's in-flight count and latency and TTFT averages (µs, 0: none).
    /// Drops old usage buckets and the entries of workers that stopped publishing (a dead
    /// worker's in-flight calls vanish with it); returns per deployment `{in flight elsewhere,
    /// requests, tokens, latency ms, ttft ms, cooldown ms left}`, the averages over the workers
    /// that have one.
    static let loads = RedisScript(clock + advance + #"""
        local nonce, life = ARGV[1], tonumber(ARGV[2])
        local out = {}
        for i = 0, #KEYS / 4 - 1 do
          local uk, ck, bk, sk = KEYS[i*4+1], KEYS[i*4+2], KEYS[i*4+3], KEYS[i*4+4]
          local busy, lat, ttft = ARGV[3+i*3], tonumber(ARGV[4+i*3]), tonumber(ARGV[5+i*3])
          advance(uk)
          redis.call('HSET', bk, nonce, busy .. ':' .. (now + life))
          redis.call('HSET', sk, nonce, lat .. ':' .. ttft .. ':' .. (now + life))
          redis.call('PEXPIRE', bk, life * 2)
          redis.call('PEXPIRE', sk, life * 2)
          local others = 0
          local e = redis.call('HGETALL', bk)
          for j = 1, #e, 2 do
            local n, until_ = string.match(e[j+1], '^(%d+):(%d+)$')
            if not n or tonumber(until_) < now then
              redis.call('HDEL', bk, e[j])
            elseif e[j] ~= nonce then
              others = others + tonumber(n)
            end
          end
          local sums, counts = {0, 0}, {0, 0}
          e = redis.call('HGETALL', sk)
          for j = 1, #e, 2 do
            local l, f, until_ = string.match(e[j+1], '^(%d+):(%d+):(%d+)$')
            if not l or tonumber(until_) < now then
              redis.call('HDEL', sk, e[j])
            else
              l, f = tonumber(l), tonumber(f)
              if l > 0 then sums[1], counts[1] = sums[1] + l, counts[1] + 1 end
              if f > 0 then sums[2], counts[2] = sums[2] + f, counts[2] + 1 end
            end
          end
          local u = redis.call('HMGET', uk, 'T', 'R')
          out[#out+1] = {others, tonumber(u[2] or '0'), tonumber(u[1] or '0'),
            tostring(counts[1] > 0 and sums[1] / counts[1] / 1000 or 0), tostring(counts[2] > 0 and sums[2] / counts[2] / 1000 or 0), redis.call('PTTL', ck)}
        end
        return out
        """#)
}
