/**
 * The gateway's landing page (`/`): every model known to the stack with its endpoints and links to
 * `/{model}/__docs__/` and `/{model}/openapi.json`. Pure: plain values in, one HTML string out.
 * Self-contained (inline CSS, no script, no CDN) so it works offline and under a strict CSP, and
 * readable on a phone (viewport meta, one fluid column).
 */
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";

/** One endpoint of a model, as shown on the landing page. */
export interface LandingEndpoint {
    /** HTTP method, upper case, e.g. `POST`. */
    method: string;
    /** Path inside the model, e.g. `/score` (shown under the model's prefix). */
    path: string;
    /** One-line description. Default none. */
    summary?: string;
}

/** One model as the landing page lists it. */
export interface LandingModel {
    /** Model name: the URL prefix `/{name}/`. */
    name: string;
    /** One paragraph about the model. Default none. */
    description?: string;
    /** Endpoints to list. Default none (the docs link still lists them all). */
    endpoints?: LandingEndpoint[];
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The palette (light and dark) and the body of every page the gateway serves: the landing and the status page. */
export const PAGE_BASE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #fff; --card: #f6f8fa; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #161b22; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
`.trim();

const STYLE = `
${PAGE_BASE_STYLE}
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
section { background: var(--card); border-radius: 8px; padding: 0.75rem 1rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 0 0 0.25rem; }
a { color: var(--accent); }
.links a { display: inline-block; margin: 0.25rem 1rem 0.25rem 0; padding: 0.25rem 0; }
ul { padding-left: 1.2rem; margin: 0.5rem 0 0; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.method { font-weight: 600; }
.muted { color: var(--muted); }
`.trim();

function renderModel(model: LandingModel): string {
    const name = escapeHtml(model.name);
    const endpoints = (model.endpoints ?? [])
        .map((e) => {
            const summary = e.summary ? ` <span class="muted">— ${escapeHtml(e.summary)}</span>` : "";
            return `<li><code><span class="method">${escapeHtml(e.method)}</span> /${name}${escapeHtml(e.path)}</code>${summary}</li>`;
        })
        .join("\n");
    return [
        `<section id="model-${name}">`,
        `<h2><a href="/${name}/__docs__/">${name}</a></h2>`,
        model.description ? `<p>${escapeHtml(model.description)}</p>` : "",
        `<div class="links"><a href="/${name}/__docs__/">API docs</a><a href="/${name}/openapi.json">OpenAPI spec</a></div>`,
        endpoints ? `<ul>\n${endpoints}\n</ul>` : "",
        `</section>`,
    ]
        .filter((line) => line !== "")
        .join("\n");
}

/**
 * Renders the landing page. Models are listed in the order given. Names are expected to be valid
 * model names already (the gateway renderer validates them); everything is HTML-escaped anyway.
 */
export function renderLandingPage(models: LandingModel[], title: string = GATEWAY_SETTINGS_DEFAULTS.title, statusPath?: string): string {
    const body = models.length > 0 ? models.map(renderModel).join("\n") : `<p class="muted">No models are deployed yet.</p>`;
    const status =
        statusPath === undefined
            ? ""
            : `\n<p class="links"><a href="${escapeHtml(statusPath)}">Status: health, traffic and latency of every model</a></p>`;
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>${status}
${body}
</main>
</body>
</html>
`;
}
