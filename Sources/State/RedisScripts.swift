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

    /// Admit, after applying the settlements it carries: KEYS = 5 per settlement (see
    /// ``settleFunction``), then 4 per candidate (requests, usage, cooldown, leases), in
    /// preference order. ARGV = the number of settlements, 9 per settlement, then tokens,
    /// enforce (1/0), worker nonce, lease ms, then rpm and tpm per candidate (-1: none).
    /// Returns `{index, stamp}` (0-based candidate, Redis microseconds as text) or
    /// `{-1, retry-after ms, at rpm, at tpm, cooling}`.
    static let admit = RedisScript(clock + advance + settleFunction + #"""
        local settled = tonumber(ARGV[1])
        for j = 0, settled - 1 do settle(j * 5, 1 + j * 9) end
        local K, A = settled * 5, 1 + settled * 9
        local tokens = tonumber(ARGV[A + 1])
        local enforce = ARGV[A + 2] == '1'
        local leasems = tonumber(ARGV[A + 4])
        local soonest, atR, atT, cooling = -1, 0, 0, 0
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
        for i = 0, (#KEYS - K) / 4 - 1 do
          local rk, uk, ck, lk = KEYS[K+i*4+1], KEYS[K+i*4+2], KEYS[K+i*4+3], KEYS[K+i*4+4]
          local rpm, tpm = tonumber(ARGV[A + 5 + i*2]), tonumber(ARGV[A + 6 + i*2])
          local wait = 0
          local cd = redis.call('PTTL', ck)
          advance(uk)
          if cd > 0 then
            cooling = cooling + 1
            wait = cd
          elseif enforce then
            if rpm > exact then
              local c = tonumber(redis.call('HGET', uk, 'R') or '0')
              if c + 1 > rpm then
                atR = atR + 1
                wait = bucketwait(uk, 'r', c, 1, rpm)
              end
            elseif rpm >= 0 then
              redis.call('ZREMRANGEBYSCORE', rk, '-inf', string.format('%.0f', nowus - 60000000))
              local c = redis.call('ZCARD', rk)
              if c >= rpm then
                atR = atR + 1
                wait = 60000
                if rpm > 0 then
                  local e = redis.call('ZRANGE', rk, c - rpm, c - rpm, 'WITHSCORES')
                  if e[2] then wait = math.max(1, math.ceil((tonumber(e[2]) + 60000000 - nowus) / 1000)) end
                end
              end
            end
            if tpm >= 0 then
              local total = tonumber(redis.call('HGET', uk, 'T') or '0')
              if total + tokens > tpm then
                atT = atT + 1
                local w = bucketwait(uk, '', total, tokens, tpm)
                if w > wait then wait = w end
              end
            end
          end
          if wait <= 0 then
            local member = stamp .. ':' .. ARGV[A + 3]
            if rpm >= 0 and rpm <= exact then
              redis.call('ZADD', rk, stamp, member)
              redis.call('PEXPIRE', rk, 61000)
            end
            -- The second's first admission starts the window bookkeeping and sets the expiry
            -- (61 s from this second covers every bucket written in it).
            local first = redis.call('HINCRBY', uk, t[1] .. 'r', 1) == 1
            redis.call('HINCRBY', uk, t[1], tokens)
            redis.call('HINCRBY', uk, 'T', tokens)
            redis.call('HINCRBY', uk, 'R', 1)
            if first then
              redis.call('HSETNX', uk, 'lo', t[1])
              redis.call('PEXPIRE', uk, 61000)
            end
            redis.call('ZADD', lk, now + leasems, member)
            redis.call('PEXPIRE', lk, leasems + 1000)
            return {i, stamp}
          end
          if soonest < 0 or wait < soonest then soonest = wait end
        end
        return {-1, soonest, atR, atT, cooling}
        """#)

    /// `settle(k, a)`: one settlement, its KEYS from `k + 1` (usage, cooldown, leases, failures,
    /// latency) and ARGV from `a + 1` (lease member, second of the admission, token
    /// correction, outcome (`s`, `f`, `n`), cool now (1/0), cooldown ms, allowed fails,
    /// latency ms, TTFT ms): drops the lease, corrects the tokens, updates the latency averages
    /// or counts the failure and sets the cooldown.
    static let settleFunction = #"""
        local function settle(k, a)
          local uk, ck, lk, fk, mk = KEYS[k+1], KEYS[k+2], KEYS[k+3], KEYS[k+4], KEYS[k+5]
          redis.call('ZREM', lk, ARGV[a+1])
          local delta = tonumber(ARGV[a+3])
          if delta ~= 0 then
            local old = redis.call('HGET', uk, ARGV[a+2])
            if old then
              local new = math.max(0, tonumber(old) + delta)
              redis.call('HSET', uk, ARGV[a+2], new)
              redis.call('HINCRBY', uk, 'T', new - tonumber(old))
            end
          end
          if ARGV[a+4] == 's' then
            local seen = {tonumber(ARGV[a+8]), tonumber(ARGV[a+9])}
            if seen[1] > 0 or seen[2] > 0 then
              local names = {'lat', 'ttft'}
              local old = redis.call('HMGET', mk, 'lat', 'ttft')
              local fields = {}
              for j = 1, 2 do
                if seen[j] > 0 then
                  local o = tonumber(old[j] or '0')
                  local new = seen[j]
                  if o > 0 then new = o + 0.2 * (seen[j] - o) end
                  fields[#fields + 1] = names[j]
                  fields[#fields + 1] = tostring(new)
                end
              end
              redis.call('HSET', mk, unpack(fields))
            end
          elseif ARGV[a+4] == 'f' then
            local n = redis.call('INCR', fk)
            if n == 1 then redis.call('PEXPIRE', fk, 60000) end
            if ARGV[a+5] == '1' or n > tonumber(ARGV[a+7]) then
              local ms = tonumber(ARGV[a+6])
              if ms > redis.call('PTTL', ck) then redis.call('SET', ck, '1', 'PX', ms) end
              redis.call('DEL', fk)
            end
          end
        end

        """#

    /// Settle: KEYS = 5 per settlement, ARGV = their number, then 9 per settlement (see
    /// ``settleFunction``). Sent for failures at once, and for the settlements no admission
    /// carried within ``RedisStateStore/Options/settleDelay``.
    static let settle = RedisScript(settleFunction + #"""
        local settled = tonumber(ARGV[1])
        for j = 0, settled - 1 do settle(j * 5, 1 + j * 9) end
        return settled
        """#)

    /// Loads: KEYS = 4 per deployment (usage, cooldown, leases, latency). Drops expired leases
    /// and old usage buckets; returns per deployment `{in flight, requests, tokens, latency,
    /// ttft, cooldown ms left}`.
    static let loads = RedisScript(clock + advance + #"""
        local out = {}
        for i = 0, #KEYS / 4 - 1 do
          local uk, ck, lk, mk = KEYS[i*4+1], KEYS[i*4+2], KEYS[i*4+3], KEYS[i*4+4]
          redis.call('ZREMRANGEBYSCORE', lk, '-inf', now)
          advance(uk)
          local u = redis.call('HMGET', uk, 'T', 'R')
          local m = redis.call('HMGET', mk, 'lat', 'ttft')
          out[#out+1] = {redis.call('ZCARD', lk), tonumber(u[2] or '0'), tonumber(u[1] or '0'), m[1] or '0', m[2] or '0', redis.call('PTTL', ck)}
        end
        return out
        """#)
}
