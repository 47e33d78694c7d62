/**
 * The gateway's live view: `GET {url}status.json` with a gateway user's basic auth, the TLS certificate verified
 * against the stack's CA (`caCertPem`; the system's roots when it is empty, as with ACME). Served only with
 * `plumberhub:gateway.metrics: true`; a 404 means the metrics are off. The certificate the gateway serves is read
 * from the same handshake.
 */
import * as https from "https";
import type { TLSSocket } from "tls";
import { STATUS_JSON_PATH } from "../components/render/gateway/metrics";
import { LiveMetrics, parseGatewayStatus } from "./operations";

/** How long the gateway may take to answer. */
const GATEWAY_TIMEOUT_MS = 10_000;

/** What the gateway answered: its live metrics (or why not) and, when it was reached, the expiry of the certificate it served. */
export interface GatewayAnswer {
    live: LiveMetrics;
    servedNotAfter?: string;
}

/** Asks the gateway at `url` (its base URL, ending in `/`) for `status.json`; never throws: an unreachable gateway is an answer too. */
export function readGatewayStatus(url: string, caCertPem: string, login: { user: string; password: string } | undefined): Promise<GatewayAnswer> {
    // The gateway serves at the root of its host: the path is absolute.
    const target = new URL(STATUS_JSON_PATH, url);
    return new Promise((resolve) => {
        let servedNotAfter: string | undefined;
        const answer = (live: LiveMetrics) => resolve({ live, ...(servedNotAfter ? { servedNotAfter } : {}) });
        const unavailable = (reason: string) => answer({ state: "unavailable", reason });
        const request = https.get(
            target,
            {
                ...(caCertPem ? { ca: caCertPem } : {}),
                headers: {
                    accept: "application/json",
                    ...(login ? { authorization: `Basic ${Buffer.from(`${login.user}:${login.password}`).toString("base64")}` } : {}),
                },
                timeout: GATEWAY_TIMEOUT_MS,
            },
            (response) => {
                const served = (response.socket as TLSSocket).getPeerCertificate?.();
                if (served?.valid_to) servedNotAfter = new Date(served.valid_to).toISOString();
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => (body += chunk));
                response.on("error", (error) => unavailable(error.message));
                response.on("end", () => {
                    const status = response.statusCode ?? 0;
                    if (status === 404) return answer({ state: "off" });
                    if (status === 401 || status === 403) {
                        return unavailable(
                            `it refused ${login ? `user ${login.user}` : "a request without a password (the stack has no `passwords` output)"} (HTTP ${status})`,
                        );
                    }
                    if (status !== 200) return unavailable(`it answered HTTP ${status} for ${target.href}`);
                    try {
                        answer({ state: "on", status: parseGatewayStatus(JSON.parse(body)) });
                    } catch (error) {
                        unavailable((error as Error).message);
                    }
                });
            },
        );
        request.on("timeout", () => request.destroy(new Error(`no answer within ${GATEWAY_TIMEOUT_MS / 1000} s`)));
        request.on("error", (error: NodeJS.ErrnoException) => unavailable(`${error.code ? `${error.code}: ` : ""}${error.message}`));
    });
}
