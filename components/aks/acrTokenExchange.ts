/**
 * The one HTTP call of the ACR login: an Entra ID access token in, an ACR refresh token out — what `az acr login
 * --expose-token` does (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md). Kept apart from the Pulumi
 * wiring (`acrPushLogin` in `acrRegistry.ts`) so it can be tested against a local server.
 */

/** User name that tells ACR the password is an ACR refresh token: the null GUID (`az acr login --expose-token` prints it). */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

/** Longest wait for the registry's answer, ms. */
const EXCHANGE_TIMEOUT_MS = 30_000;

/** What `POST /oauth2/exchange` takes. */
export interface AcrTokenExchangeRequest {
    /** Registry host, e.g. `plumberhubab12cd34.azurecr.io`: where the call goes and the `service` it asks a token for. */
    loginServer: string;
    /** Entra ID tenant of the identity. */
    tenantId: string;
    /** Entra ID access token of the identity for Azure Resource Manager (what `az account get-access-token` prints). */
    accessToken: string;
}

/**
 * Exchanges an Entra ID access token for an ACR refresh token: `POST {baseUrl}/oauth2/exchange`, form-encoded
 * `grant_type=access_token`, `service`, `tenant`, `access_token`; ACR answers `{"refresh_token": "…"}`. Docker logs in
 * with `ACR_TOKEN_USERNAME` and that token (valid for about 3 hours) and may push when the identity holds AcrPush (or
 * Contributor or Owner, which include push) on the registry. A refusal throws with the HTTP status and ACR's own
 * message; no token is ever put in a message.
 *
 * `baseUrl` is the registry's HTTPS endpoint, `https://{loginServer}`; only tests pass another (a local server).
 */
export async function exchangeAcrRefreshToken(request: AcrTokenExchangeRequest, baseUrl = `https://${request.loginServer}`): Promise<string> {
    const url = `${baseUrl}/oauth2/exchange`;
    const failed = `the ACR token exchange (POST ${url}) failed`;
    const redact = (text: string) => (request.accessToken === "" ? text : text.split(request.accessToken).join("<access token>"));
    let status: number;
    let text: string;
    try {
        const response = await fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "access_token",
                service: request.loginServer,
                tenant: request.tenantId,
                access_token: request.accessToken,
            }),
            signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
        });
        status = response.status;
        text = await response.text();
    } catch (error) {
        throw new Error(`${failed}: ${redact(networkReason(error))}`, { cause: error });
    }
    const body = parseJson(text);
    if (status < 200 || status > 299) {
        const denied =
            status === 401 || status === 403
                ? `; the identity running Pulumi must be signed in to tenant ${request.tenantId} and hold AcrPush (or Contributor or Owner) on the registry`
                : "";
        throw new Error(`${failed}: HTTP ${status}: ${redact(acrMessage(body, text))}${denied}`);
    }
    if (body === undefined) throw new Error(`${failed}: HTTP ${status} with a body that is not JSON: ${redact(excerpt(text))}`);
    const refreshToken = typeof body === "object" && body !== null ? (body as Record<string, unknown>).refresh_token : undefined;
    if (typeof refreshToken !== "string" || refreshToken === "") {
        // Only the keys: the values may be tokens.
        const keys = typeof body === "object" && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
        throw new Error(
            `${failed}: HTTP ${status} without a \`refresh_token\` in the answer (${keys.length > 0 ? `keys: ${keys.join(", ")}` : `a JSON ${Array.isArray(body) ? "list" : typeof body}`})`,
        );
    }
    return refreshToken;
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** ACR's error answer `{"errors": [{"code", "message"}]}` as `CODE: message; …`, else the start of the body. */
function acrMessage(body: unknown, text: string): string {
    const errors = typeof body === "object" && body !== null ? (body as { errors?: unknown }).errors : undefined;
    const described = (Array.isArray(errors) ? errors : [])
        .map((e: { code?: unknown; message?: unknown } | null) =>
            [e?.code, e?.message].filter((part) => typeof part === "string" && part !== "").join(": "),
        )
        .filter((line) => line !== "");
    if (described.length > 0) return described.join("; ");
    return text.trim() === "" ? "an empty body" : excerpt(text);
}

function excerpt(text: string): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** Why fetch failed: Node puts the network error (ENOTFOUND, ECONNREFUSED, a timeout) in `cause`. */
function networkReason(error: unknown): string {
    const cause = (error as { cause?: unknown })?.cause;
    // Not `instanceof Error`: fetch's errors may come from another realm.
    const message = (e: unknown) => (typeof (e as { message?: unknown })?.message === "string" ? (e as { message: string }).message : String(e));
    return cause === undefined ? message(error) : `${message(error)} (${message(cause)})`;
}
