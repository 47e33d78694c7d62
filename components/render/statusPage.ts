/**
 * The gateway's status page (`/status`, with `metrics`): one row per model with its health, requests per second over
 * the last minute and five, p50/p99 and error rate, and the gateway's certificate above them; the numbers come from
 * the gateway's `/status.json` every few seconds. Pure: plain values in, three files out (page, script, style), so a
 * strict CSP allows only the gateway's own script and style — no inline code, nothing external. Readable on a phone
 * (the table becomes one card per model) and in dark mode.
 */
import { escapeHtml, PAGE_BASE_STYLE } from "./landingPage";

/** The page's path, its script's and its style's (under `/_plumberhub/`, which no model name can take). */
export const STATUS_PAGE_PATHS = Object.freeze({ page: "/status", script: "/_plumberhub/status.js", style: "/_plumberhub/status.css" });

/** Seconds between two reads of `/status.json`. */
export const STATUS_REFRESH_SECONDS = 5;

/** The status page's Content-Security-Policy: its own script, style and `/status.json`, nothing else. */
export const STATUS_PAGE_CSP =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page, its script and its style, by file name in the gateway's landing folder. */
export interface StatusPageFiles {
    "status.html": string;
    "status.js": string;
    "status.css": string;
}

/** Renders the status page for a gateway titled `title`. */
export function renderStatusPage(title: string, statusJsonPath: string): StatusPageFiles {
    return {
        "status.html": `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status · ${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STATUS_PAGE_PATHS.style}">
<script src="${STATUS_PAGE_PATHS.script}" defer></script>
</head>
<body>
<main>
<h1>Status · ${escapeHtml(title)}</h1>
<p class="muted"><a href="/">Models</a> · <span id="updated">loading…</span></p>
<section id="gateway" aria-label="gateway"><span id="certificate">certificate: …</span> · <span id="connections">connections: …</span></section>
<noscript><p>This page reads its numbers with JavaScript; <code>${escapeHtml(statusJsonPath)}</code> has them as JSON.</p></noscript>
<table id="models">
<thead><tr><th>model</th><th>health</th><th>req/s 1 min</th><th>req/s 5 min</th><th>p50</th><th>p99</th><th>errors</th><th>unreachable / timed out</th><th>requests</th></tr></thead>
<tbody></tbody>
</table>
<p class="muted">Windows: rates over the last minute and five; p50, p99 and errors (share of 5xx) over five minutes; health from the last minute.
Replicas, images and deploy times: <code>npm run status -- --stack STACK</code>.</p>
</main>
</body>
</html>
`,
        "status.js": STATUS_SCRIPT.replace("__STATUS_JSON__", JSON.stringify(statusJsonPath)).replace(
            "__REFRESH_MS__",
            String(STATUS_REFRESH_SECONDS * 1000),
        ),
        "status.css": STATUS_STYLE,
    };
}

/** Fills the page from `/status.json`; text only (`textContent`), never HTML from the data. */
const STATUS_SCRIPT = `"use strict";
(function () {
    var URL = __STATUS_JSON__;
    var COLUMNS = ["name", "health", "rate1m", "rate5m", "p50", "p99", "errorRate", "upstreamErrors", "requests"];
    var LABELS = ["model", "health", "req/s 1 min", "req/s 5 min", "p50", "p99", "errors", "unreachable / timed out", "requests"];
    function seconds(value) {
        if (value === null || value === undefined) return "–";
        return value < 1 ? (value * 1000).toFixed(value < 0.01 ? 1 : 0) + " ms" : value.toFixed(2) + " s";
    }
    function rate(value) { return value === null || value === undefined ? "–" : value.toFixed(value < 10 ? 2 : 1); }
    function share(value) { return value === null || value === undefined ? "–" : (value * 100).toFixed(value < 0.1 ? 1 : 0) + " %"; }
    function cells(model) {
        return {
            name: model.name,
            health: model.health,
            rate1m: rate(model.requestsPerSecond["1m"]),
            rate5m: rate(model.requestsPerSecond["5m"]),
            p50: seconds(model.p50Seconds),
            p99: seconds(model.p99Seconds),
            errorRate: share(model.errorRate),
            upstreamErrors: String(model.upstreamErrors),
            requests: String(model.requests)
        };
    }
    function render(status) {
        var body = document.querySelector("#models tbody");
        var rows = status.models.map(function (model) {
            var row = document.createElement("tr");
            row.id = "model-" + model.name;
            row.className = "health-" + model.health;
            var values = cells(model);
            COLUMNS.forEach(function (column, i) {
                var cell = document.createElement("td");
                cell.setAttribute("data-label", LABELS[i]);
                cell.className = column;
                if (column === "health") {
                    var badge = document.createElement("span");
                    badge.className = "badge";
                    badge.textContent = values.health;
                    cell.appendChild(badge);
                } else {
                    cell.textContent = values[column];
                }
                row.appendChild(cell);
            });
            return row;
        });
        body.replaceChildren.apply(body, rows);
        var certificate = status.gateway.certificate;
        var certificateText = document.getElementById("certificate");
        certificateText.textContent = certificate ? "certificate: " + certificate.daysLeft + (certificate.daysLeft === 1 ? " day" : " days") + " left (until " + certificate.notAfter + ")" : "certificate: –";
        certificateText.className = certificate && certificate.daysLeft < 14 ? "warning" : "";
        var c = status.gateway.connections;
        document.getElementById("connections").textContent = "connections: " + c.active + " open, " + c.writing + " answering";
        document.getElementById("updated").textContent = "updated " + status.generatedAt;
        document.body.setAttribute("data-loaded", "true");
    }
    function refresh() {
        fetch(URL, { cache: "no-store", credentials: "same-origin" })
            .then(function (reply) {
                if (!reply.ok) throw new Error("HTTP " + reply.status);
                return reply.json();
            })
            .then(render)
            .catch(function (error) {
                document.getElementById("updated").textContent = "cannot read " + URL + ": " + error.message;
            });
    }
    refresh();
    setInterval(refresh, __REFRESH_MS__);
})();
`;

const STATUS_STYLE = `${PAGE_BASE_STYLE}
:root { --ok: #1a7f37; --failing: #cf222e; --idle: #6e7781; --line: #d0d7de; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --failing: #f85149; --idle: #8b949e; --line: #30363d; } }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; }
a { color: var(--accent); }
.muted { color: var(--muted); }
#gateway { background: var(--card); border-radius: 8px; padding: 0.75rem 1rem; margin: 0.5rem 0 1rem; }
.warning { color: var(--failing); font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.badge { display: inline-block; padding: 0 0.5rem; border-radius: 999px; color: #fff; font-weight: 600; font-size: 0.85em; }
.health-ok .badge { background: var(--ok); }
.health-failing .badge { background: var(--failing); }
.health-idle .badge { background: var(--idle); }
.health-failing td.name { color: var(--failing); font-weight: 600; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
@media (max-width: 40rem) {
  thead { display: none; }
  table, tbody, tr, td { display: block; width: 100%; }
  tr { background: var(--card); border-radius: 8px; margin: 0 0 0.75rem; padding: 0.5rem 0.75rem; }
  td { display: flex; justify-content: space-between; border: 0; padding: 0.15rem 0; white-space: normal; }
  td::before { content: attr(data-label); color: var(--muted); margin-right: 1rem; text-align: left; }
  td.name { font-weight: 600; font-size: 1.1em; }
}
`;
