/**
 * Per-model request metrics counted by nginx itself (the Lua module, `libnginx-mod-http-lua` on Debian): `/metrics` in
 * the Prometheus text format and `/status.json` (rates, latency quantiles and health over the last minutes, read by the
 * status page and `npm run status`), both behind the gateway's basic auth.
 *
 * Each worker counts in a Lua table in the log phase (no lock, no I/O per request) and adds its counts to a shared
 * dictionary once a second, when it exits, and when it answers a scrape. Every `SNAPSHOT_SECONDS` one worker copies
 * the counters into a ring of snapshots in the same dictionary: the windows of `/status.json`. Counted: every request
 * routed to a model (`$plumberhub_model` set), also the ones the gateway answers itself for that model (401, 403, 413,
 * and 502/504 when the model cannot be reached or times out — those are also upstream errors). No log is parsed;
 * nothing runs outside nginx.
 */

/** The dynamic modules the metrics need, where Debian's packages put them (`libnginx-mod-http-ndk`, `-lua`). */
export const METRICS_MODULES = ["/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so"];

/** Upper bounds of the latency histogram, seconds (Prometheus' defaults plus 30, 60 and 120: a model's read time-out). */
export const METRICS_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Seconds between two flushes of a worker's counts into the shared dictionary: how stale a scrape may be. */
export const METRICS_FLUSH_SECONDS = 1;

/** Seconds between two snapshots of the counters, and how many are kept: the windows `/status.json` can look back. */
export const STATUS_SNAPSHOT_SECONDS = 10;
const STATUS_SNAPSHOTS = 32;

/** The windows of `/status.json`, seconds: rates over the last minute and five minutes; quantiles over five. */
export const STATUS_WINDOWS = Object.freeze({ short: 60, long: 300 });

/**
 * When a model counts as failing (over the last minute): any request the gateway answered itself because the model
 * could not be reached or timed out, or this share of 5xx answers. No request in that minute: idle.
 */
export const FAILING_5XX_SHARE = 0.05;

/** The path of the metrics endpoint (a reserved model name, so no model can take it). */
export const METRICS_PATH = "/metrics";
/** The path of the status numbers, JSON (`.` is not in model names). */
export const STATUS_JSON_PATH = "/status.json";

/** The shared dictionary: counters and their snapshots (a few hundred models' worth). */
const SHARED_DICT = "plumberhub_metrics 16m";

/** What the metrics part of nginx.conf needs to know. */
export interface MetricsSettings {
    /** Models known to the stack: listed (idle) in `/status.json` before their first request. */
    models: string[];
    /** The served certificate's file, for its expiry (none in http-only mode). */
    certificatePath?: string;
}

/** `load_module` lines for the main context. */
export function metricsModuleLines(): string[] {
    return METRICS_MODULES.map((module) => `load_module ${module};`);
}

/** Lua string literal of a plain value (model names, file paths: no quote or backslash gets through validation). */
const luaString = (text: string) => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * Lines of the `http` block: the dictionary, the Lua module (counting, flushing, snapshots, both renderings), the
 * per-worker timers and the log-phase counting (inherited by every location; requests for no model are skipped).
 */
export function metricsHttpLines(settings: MetricsSettings): string[] {
    const constants = [
        `local buckets = { ${METRICS_LATENCY_BUCKETS.join(", ")} }`,
        `local known_models = { ${settings.models.map(luaString).join(", ")} }`,
        `local certificate_path = ${settings.certificatePath === undefined ? "nil" : luaString(settings.certificatePath)}`,
        `local SNAPSHOT_SECONDS, SNAPSHOTS = ${STATUS_SNAPSHOT_SECONDS}, ${STATUS_SNAPSHOTS}`,
        `local SHORT_WINDOW, LONG_WINDOW = ${STATUS_WINDOWS.short}, ${STATUS_WINDOWS.long}`,
        `local FAILING_5XX_SHARE = ${FAILING_5XX_SHARE}`,
    ];
    return [
        `# Per-model metrics (components/render/gateway/metrics.ts): counted per worker, shared once a second.`,
        `lua_shared_dict ${SHARED_DICT};`,
        `init_by_lua_block {`,
        ...[...constants, ...MODULE.split("\n")].map((line) => (line === "" ? "" : `    ${line}`)),
        `}`,
        `init_worker_by_lua_block {`,
        `    local metrics = package.loaded.plumberhub_metrics`,
        `    -- A premature run (the worker exits on reload or stop) flushes as well.`,
        `    ngx.timer.every(${METRICS_FLUSH_SECONDS}, metrics.flush)`,
        `    if ngx.worker.id() == 0 then`,
        `        -- The first snapshot when nginx starts: the windows' baseline until they fill (a reload keeps the ring).`,
        `        if metrics.first_start() then metrics.snapshot() end`,
        `        ngx.timer.every(${STATUS_SNAPSHOT_SECONDS}, function(premature) if not premature then metrics.snapshot() end end)`,
        `    end`,
        `}`,
        `log_by_lua_block { package.loaded.plumberhub_metrics.count() }`,
    ];
}

/** The `/metrics` and `/status.json` locations of the main server, behind its basic auth; never cached. */
export function metricsLocations(commonHeaders: string[]): string[] {
    const location = (path: string, contentType: string, render: string) => [
        `location = ${path} {`,
        ...commonHeaders.map((line) => `    ${line}`),
        `    add_header Cache-Control "no-store" always;`,
        `    default_type "${contentType}";`,
        `    content_by_lua_block { ngx.print(package.loaded.plumberhub_metrics.${render}()) }`,
        `}`,
    ];
    return [
        ...location(METRICS_PATH, "text/plain; version=0.0.4; charset=utf-8", "exposition"),
        ...location(STATUS_JSON_PATH, "application/json", "status"),
    ];
}

/**
 * The Lua module (`package.loaded.plumberhub_metrics`), loaded once by the master and inherited by every worker.
 * Dictionary keys: `r\tMODEL\tNxx` requests by class, `b\tMODEL\tI` latency bucket I (the last above every bound),
 * `s\tMODEL` seconds, `o`/`i\tMODEL` bytes sent/received, `e\tMODEL\tKIND` upstream errors; `hSLOT\tKEY` a snapshot of
 * KEY and `hSLOT\ttime` when it was taken.
 */
const MODULE = String.raw`local ffi = require "ffi"
local dict = ngx.shared.plumberhub_metrics
local metrics = { pending = {} }
package.loaded.plumberhub_metrics = metrics

local function new_counts()
    local counts = { sum = 0, sent = 0, received = 0, timeout = 0, unreachable = 0 }
    for i = 1, 6 + #buckets do counts[i] = 0 end
    return counts
end

-- Log phase: [1..5] requests by status class, [6..] latency buckets.
function metrics.count()
    local model = ngx.var.plumberhub_model
    if model == nil or model == "" then return end
    local counts = metrics.pending[model]
    if counts == nil then
        counts = new_counts()
        metrics.pending[model] = counts
    end
    local status = ngx.status
    local class = math.floor(status / 100)
    if class >= 1 and class <= 5 then counts[class] = counts[class] + 1 end
    -- As $request_time: from the request's first byte to now, millisecond clock.
    local seconds = ngx.now() - ngx.req.start_time()
    local i = 1
    while buckets[i] and seconds > buckets[i] do i = i + 1 end
    counts[5 + i] = counts[5 + i] + 1
    counts.sum = counts.sum + seconds
    counts.sent = counts.sent + (tonumber(ngx.var.bytes_sent) or 0)
    counts.received = counts.received + (tonumber(ngx.var.request_length) or 0)
    -- The gateway's own 502/503/504 (its error_page location): the model could not be reached or timed out.
    if status >= 502 and status <= 504 and ngx.var.uri:sub(1, 19) == "/_plumberhub_error/" then
        if status == 504 then counts.timeout = counts.timeout + 1 else counts.unreachable = counts.unreachable + 1 end
    end
end

local function add(key, value)
    if value == 0 then return end
    local _, err = dict:incr(key, value, 0)
    if err then ngx.log(ngx.ERR, "plumberhub metrics: ", err, " (", key, ")") end
end

function metrics.flush()
    local pending = metrics.pending
    metrics.pending = {}
    for model, counts in pairs(pending) do
        for class = 1, 5 do add("r\t" .. model .. "\t" .. class .. "xx", counts[class]) end
        for i = 1, #buckets + 1 do add("b\t" .. model .. "\t" .. i, counts[5 + i]) end
        add("s\t" .. model, counts.sum)
        add("o\t" .. model, counts.sent)
        add("i\t" .. model, counts.received)
        add("e\t" .. model .. "\ttimeout", counts.timeout)
        add("e\t" .. model .. "\tunreachable", counts.unreachable)
    end
end

-- The counters (not the snapshots) and the models they are for, models in name order.
local function counters()
    local values, models, seen = {}, {}, {}
    for _, model in ipairs(known_models) do seen[model] = true; models[#models + 1] = model end
    for _, key in ipairs(dict:get_keys(0)) do
        local kind = key:sub(1, 1)
        if kind ~= "h" then
            local value = dict:get(key)
            if value then values[key] = value end
            local model = key:match("^%a\t([^\t]+)")
            if model and not seen[model] then seen[model] = true; models[#models + 1] = model end
        end
    end
    table.sort(models)
    return values, models
end

-- Copies the counters into the ring slot of this moment (the oldest one); entries expire with the ring.
function metrics.snapshot()
    local now = ngx.now()
    local slot = "h" .. (math.floor(now / SNAPSHOT_SECONDS) % SNAPSHOTS) .. "\t"
    local ttl = SNAPSHOT_SECONDS * SNAPSHOTS
    local values = counters()
    for key, value in pairs(values) do
        local kind = key:sub(1, 1)
        if kind == "r" or kind == "b" or kind == "e" then dict:set(slot .. key, value, ttl) end
    end
    dict:set(slot .. "time", now, ttl)
end

-- Whether the ring is still empty: true once, for the first worker of the first start.
function metrics.first_start()
    return dict:add("h_started", ngx.now()) == true
end

-- The newest snapshot at least window seconds old, else the oldest one: its slot prefix and time.
local function baseline(window, now)
    local best, best_time, oldest, oldest_time
    for s = 0, SNAPSHOTS - 1 do
        local t = dict:get("h" .. s .. "\ttime")
        if t then
            if t <= now - window and (best_time == nil or t > best_time) then best, best_time = s, t end
            if oldest_time == nil or t < oldest_time then oldest, oldest_time = s, t end
        end
    end
    if best then return "h" .. best .. "\t", best_time end
    if oldest then return "h" .. oldest .. "\t", oldest_time end
    return nil, now
end

-- The served certificate's expiry, read with the OpenSSL nginx is linked with: notAfter (epoch seconds) or nil.
local certificate_ffi = false
local function certificate_not_after()
    if certificate_path == nil then return nil end
    if not certificate_ffi then
        ffi.cdef[[
            typedef struct bio_st PLUMBERHUB_BIO;
            typedef struct x509_st PLUMBERHUB_X509;
            typedef struct asn1_string_st PLUMBERHUB_ASN1_TIME;
            PLUMBERHUB_BIO *BIO_new_file(const char *filename, const char *mode);
            int BIO_free(PLUMBERHUB_BIO *a);
            PLUMBERHUB_X509 *PEM_read_bio_X509(PLUMBERHUB_BIO *bp, PLUMBERHUB_X509 **x, void *cb, void *u);
            void X509_free(PLUMBERHUB_X509 *a);
            const PLUMBERHUB_ASN1_TIME *X509_get0_notAfter(const PLUMBERHUB_X509 *x);
            int ASN1_TIME_diff(int *pday, int *psec, const PLUMBERHUB_ASN1_TIME *from, const PLUMBERHUB_ASN1_TIME *to);
        ]]
        certificate_ffi = true
    end
    local bio = ffi.C.BIO_new_file(certificate_path, "r")
    if bio == nil then return nil end
    local x509 = ffi.C.PEM_read_bio_X509(bio, nil, nil, nil)
    ffi.C.BIO_free(bio)
    if x509 == nil then return nil end
    local day, sec = ffi.new("int[1]"), ffi.new("int[1]")
    local ok = ffi.C.ASN1_TIME_diff(day, sec, nil, ffi.C.X509_get0_notAfter(x509))
    ffi.C.X509_free(x509)
    if ok ~= 1 then return nil end
    return math.floor(ngx.time() + day[0] * 86400 + sec[0])
end

local function safe_not_after()
    local ok, result = pcall(certificate_not_after)
    if not ok then ngx.log(ngx.ERR, "plumberhub metrics: reading the certificate failed: ", result); return nil end
    return result
end

local function number(value)
    if value == nil or value ~= value then return "null" end
    return string.format("%.15g", value)
end

function metrics.exposition()
    metrics.flush()
    local values, models = counters()
    local out = {}
    local function line(text) out[#out + 1] = text end
    local function family(name, kind, help) line("# HELP " .. name .. " " .. help); line("# TYPE " .. name .. " " .. kind) end
    local function label(model) return '{model="' .. model .. '"' end
    family("plumberhub_requests_total", "counter", "Requests for a model through the gateway, by status class.")
    for _, model in ipairs(models) do
        for class = 1, 5 do
            local value = values["r\t" .. model .. "\t" .. class .. "xx"]
            if value then line("plumberhub_requests_total" .. label(model) .. ',code="' .. class .. 'xx"} ' .. number(value)) end
        end
    end
    family("plumberhub_request_duration_seconds", "histogram", "Time from the request's first byte to the response's last, seconds.")
    for _, model in ipairs(models) do
        local count = 0
        for i = 1, #buckets + 1 do
            count = count + (values["b\t" .. model .. "\t" .. i] or 0)
            local le = buckets[i] and number(buckets[i]) or "+Inf"
            line("plumberhub_request_duration_seconds_bucket" .. label(model) .. ',le="' .. le .. '"} ' .. number(count))
        end
        line("plumberhub_request_duration_seconds_sum" .. label(model) .. "} " .. number(values["s\t" .. model] or 0))
        line("plumberhub_request_duration_seconds_count" .. label(model) .. "} " .. number(count))
    end
    family("plumberhub_upstream_errors_total", "counter", "Requests the gateway answered itself because the model could not be reached (502/503) or timed out (504).")
    for _, model in ipairs(models) do
        for _, kind in ipairs({ "timeout", "unreachable" }) do
            line("plumberhub_upstream_errors_total" .. label(model) .. ',kind="' .. kind .. '"} ' .. number(values["e\t" .. model .. "\t" .. kind] or 0))
        end
    end
    family("plumberhub_response_bytes_total", "counter", "Bytes sent to clients for a model, headers included.")
    for _, model in ipairs(models) do line("plumberhub_response_bytes_total" .. label(model) .. "} " .. number(values["o\t" .. model] or 0)) end
    family("plumberhub_request_bytes_total", "counter", "Bytes of requests for a model (request line, headers and body).")
    for _, model in ipairs(models) do line("plumberhub_request_bytes_total" .. label(model) .. "} " .. number(values["i\t" .. model] or 0)) end
    family("plumberhub_gateway_connections", "gauge", "Client connections of the gateway's workers, by state.")
    for _, state in ipairs({ "active", "reading", "writing", "waiting" }) do
        line('plumberhub_gateway_connections{state="' .. state .. '"} ' .. (ngx.var["connections_" .. state] or 0))
    end
    local not_after = safe_not_after()
    if not_after then
        family("plumberhub_certificate_expiry_timestamp_seconds", "gauge", "When the gateway's certificate expires, Unix time.")
        line("plumberhub_certificate_expiry_timestamp_seconds " .. number(not_after))
    end
    return table.concat(out, "\n") .. "\n"
end

-- The q-quantile of a histogram's increase (Prometheus' histogram_quantile: linear within the bucket).
local function quantile(q, increase, total)
    if total <= 0 then return nil end
    local rank, below = q * total, 0
    for i = 1, #buckets + 1 do
        local count = increase[i]
        if below + count >= rank and count > 0 then
            if buckets[i] == nil then return buckets[#buckets] end
            local lower = i == 1 and 0 or buckets[i - 1]
            return lower + (buckets[i] - lower) * (rank - below) / count
        end
        below = below + count
    end
    return buckets[#buckets]
end

-- A model's requests, 5xx, upstream errors and bucket increases since a snapshot.
local function increase(values, model, slot)
    local function since(key) return (values[key] or 0) - (slot and dict:get(slot .. key) or 0) end
    local result = { requests = 0, failed = 0, upstream = since("e\t" .. model .. "\ttimeout") + since("e\t" .. model .. "\tunreachable"), buckets = {} }
    for class = 1, 5 do
        local n = since("r\t" .. model .. "\t" .. class .. "xx")
        result.requests = result.requests + n
        if class == 5 then result.failed = n end
    end
    for i = 1, #buckets + 1 do result.buckets[i] = since("b\t" .. model .. "\t" .. i) end
    return result
end

function metrics.status()
    metrics.flush()
    local now = ngx.now()
    local values, models = counters()
    local short_slot, short_time = baseline(SHORT_WINDOW, now)
    local long_slot, long_time = baseline(LONG_WINDOW, now)
    local function rate(n, since) if now - since < 1 then return nil end return n / (now - since) end
    local rows = {}
    for _, model in ipairs(models) do
        local total = increase(values, model, nil)
        local short = increase(values, model, short_slot)
        local long = increase(values, model, long_slot)
        local health = "ok"
        if short.requests == 0 then health = "idle"
        elseif short.upstream > 0 or short.failed >= FAILING_5XX_SHARE * short.requests then health = "failing" end
        rows[#rows + 1] = '{"name":"' .. model .. '","health":"' .. health .. '","requests":' .. number(total.requests)
            .. ',"requestsPerSecond":{"1m":' .. number(rate(short.requests, short_time)) .. ',"5m":' .. number(rate(long.requests, long_time)) .. '}'
            .. ',"p50Seconds":' .. number(quantile(0.5, long.buckets, long.requests))
            .. ',"p99Seconds":' .. number(quantile(0.99, long.buckets, long.requests))
            .. ',"errorRate":' .. number(long.requests > 0 and long.failed / long.requests or nil)
            .. ',"upstreamErrors":' .. number(long.upstream) .. '}'
    end
    local connections = {}
    for _, state in ipairs({ "active", "reading", "writing", "waiting" }) do
        connections[#connections + 1] = '"' .. state .. '":' .. (tonumber(ngx.var["connections_" .. state]) or 0)
    end
    local not_after = safe_not_after()
    local certificate = "null"
    if not_after then
        certificate = '{"notAfter":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", not_after) .. '","daysLeft":' .. math.floor((not_after - now) / 86400) .. '}'
    end
    return '{"generatedAt":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(now)) .. '","windows":{"short":' .. SHORT_WINDOW .. ',"long":' .. LONG_WINDOW .. '}'
        .. ',"gateway":{"connections":{' .. table.concat(connections, ",") .. '},"certificate":' .. certificate .. '}'
        .. ',"models":[' .. table.concat(rows, ",") .. ']}\n'
end`;
