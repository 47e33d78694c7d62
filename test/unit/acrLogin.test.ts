// The ACR push login without the admin user: the token exchange against a local server that answers as ACR's
// `POST /oauth2/exchange` does (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md), and what the login is
// during a preview (mocks in preview mode).
import * as http from "http";
import type { AddressInfo } from "net";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, promiseOf, settle } from "../helpers/pulumiMocks";

const invoked: string[] = [];
void pulumi.runtime.setMocks(
    {
        newResource: (args) => ({
            id: `${args.name}-id`,
            state: { ...args.inputs, ...(args.type === "azure-native:containerregistry:Registry" ? { loginServer: "myacr.azurecr.io" } : {}) },
        }),
        call: (args) => {
            invoked.push(args.token);
            return {};
        },
    },
    "plumberhub",
    "test",
    true, // a preview
);

import { AcrRegistry } from "../../components/aks";
import { ACR_TOKEN_USERNAME, exchangeAcrRefreshToken } from "../../components/aks/acrTokenExchange";

const ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.arm-access-token.signature";
const REQUEST = { loginServer: "myacr.azurecr.io", tenantId: "409520d4-8100-4d1d-ad47-72432ddcc120", accessToken: ACCESS_TOKEN };

/** One request as the local registry saw it. */
interface Seen {
    method?: string;
    url?: string;
    contentType?: string;
    form: Record<string, string>;
}

let server: http.Server;
let baseUrl: string;
let answer: { status: number; body: string } = { status: 200, body: "{}" };
const seen: Seen[] = [];

beforeAll(async () => {
    server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
            seen.push({
                method: req.method,
                url: req.url,
                contentType: req.headers["content-type"],
                form: Object.fromEntries(new URLSearchParams(body)),
            });
            res.writeHead(answer.status, { "Content-Type": "application/json; charset=utf-8" });
            res.end(answer.body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => (seen.length = 0));

/** The exchange's error message with `answer` from the registry. */
async function failure(status: number, body: string): Promise<string> {
    answer = { status, body };
    return exchangeAcrRefreshToken(REQUEST, baseUrl).then(
        () => "no error",
        (error: Error) => error.message,
    );
}

describe("the ACR token exchange", () => {
    test("posts the form az acr login posts and returns the refresh token", async () => {
        answer = { status: 200, body: JSON.stringify({ refresh_token: "acr-refresh-token" }) };
        expect(await exchangeAcrRefreshToken(REQUEST, baseUrl)).toBe("acr-refresh-token");
        expect(seen).toEqual([
            {
                method: "POST",
                url: "/oauth2/exchange",
                contentType: "application/x-www-form-urlencoded",
                form: { grant_type: "access_token", service: "myacr.azurecr.io", tenant: REQUEST.tenantId, access_token: ACCESS_TOKEN },
            },
        ]);
    });

    test("a 401 gives the status, ACR's code and message and the role the identity needs", async () => {
        const body = JSON.stringify({
            errors: [{ code: "UNAUTHORIZED", message: "authentication required, visit https://aka.ms/acr/authorization" }],
        });
        expect(await failure(401, body)).toBe(
            `the ACR token exchange (POST ${baseUrl}/oauth2/exchange) failed: HTTP 401: UNAUTHORIZED: authentication required, visit https://aka.ms/acr/authorization; ` +
                `the identity running Pulumi must be signed in to tenant ${REQUEST.tenantId} and hold AcrPush (or Contributor or Owner) on the registry`,
        );
    });

    test("a body that is not JSON is quoted, shortened", async () => {
        expect(await failure(200, `<html>${"x".repeat(300)}</html>`)).toBe(
            `the ACR token exchange (POST ${baseUrl}/oauth2/exchange) failed: HTTP 200 with a body that is not JSON: <html>${"x".repeat(194)}…`,
        );
    });

    test("an answer without refresh_token names the keys it has, not their values", async () => {
        const message = await failure(200, JSON.stringify({ access_token: "some-token-value" }));
        expect(message).toBe(
            `the ACR token exchange (POST ${baseUrl}/oauth2/exchange) failed: HTTP 200 without a \`refresh_token\` in the answer (keys: access_token)`,
        );
    });

    test("no message carries the access token, even when the registry echoes it", async () => {
        expect(await failure(400, `bad request: access_token=${ACCESS_TOKEN}`)).toBe(
            `the ACR token exchange (POST ${baseUrl}/oauth2/exchange) failed: HTTP 400: bad request: access_token=<access token>`,
        );
    });

    test("an unreachable registry is named with the network error", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        await expect(exchangeAcrRefreshToken(REQUEST, url)).rejects.toThrow(
            `the ACR token exchange (POST ${url}/oauth2/exchange) failed: fetch failed (connect ECONNREFUSED 127.0.0.1:`,
        );
    });
});

describe("the ACR login during a preview", () => {
    test("is the null-GUID user and an unknown secret password, with no token asked for", async () => {
        const registry = new AcrRegistry("preview", { resourceGroupName: "rg", registryName: "myacr" });
        await settle();
        expect(await promiseOf(registry.username)).toBe(ACR_TOKEN_USERNAME);
        expect(await isSecret(registry.password)).toBe(true);
        expect(await (registry.password as unknown as { isKnown: Promise<boolean> }).isKnown).toBe(false);
        expect(invoked).toEqual([]);
    });
});
