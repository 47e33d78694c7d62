/**
 * The gateway in a real browser: Debian chromium (headless, driven by playwright-core; no browser is
 * downloaded) against nginx with TLS + basic auth in front of the two example models as real R
 * plumber processes. The landing page lists both models; `/bos-rf/__docs__/` renders Swagger UI that
 * loaded its spec through the prefix, and "Try it out" calls the model through the prefix.
 * Screenshots go to test-artifacts/.
 */
import * as fs from "fs";
import * as path from "path";
import { Browser, BrowserContext } from "playwright-core";
import {
    gatewayPaths,
    makeTls,
    PlumberModel,
    startExampleModel,
    startNginx,
    tempDir,
    TestTls,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../helpers/gateway";
import { launchChromium } from "../helpers/browser";
import { Service } from "../helpers/processes";

jest.setTimeout(300_000);

const ARTIFACTS = path.join(__dirname, "../../test-artifacts");
const USER = { username: "alice", password: "alice-password-0123456789" };

const dir = tempDir("plumberhub-gateway-browser-");
let certs: TestTls;
let hello: PlumberModel;
let bos: PlumberModel;
let nginx: Service;
let browser: Browser;
let context: BrowserContext;
let base: string;

beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const [httpsPort, httpPort] = await twoPorts();
    base = `https://localhost:${httpsPort}`;
    certs = await makeTls(dir);
    const paths = gatewayPaths(dir);
    writeHtpasswd(paths.htpasswd, { [USER.username]: USER.password });
    [hello, bos] = await Promise.all([startExampleModel("hello", dir), startExampleModel("bos-rf", dir)]);
    const conf = writeGateway(dir, {
        models: [
            {
                name: "hello",
                upstream: `127.0.0.1:${hello.port}`,
                description: "The smallest plumber API: echo, a plot, a sum.",
                endpoints: [
                    { method: "GET", path: "/echo" },
                    { method: "GET", path: "/plot" },
                    { method: "POST", path: "/sum" },
                ],
            },
            {
                name: "bos-rf",
                upstream: `127.0.0.1:${bos.port}`,
                description: "Median Boston home value (medv, $1000s) from a random forest.",
                endpoints: [{ method: "POST", path: "/score", summary: "one prediction per row" }],
            },
        ],
        routing: { mode: "static" },
        tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
        paths,
        listenAddress: "127.0.0.1",
        httpsPort,
        httpPort,
        workerProcesses: 1,
    });
    nginx = await startNginx(dir, conf, httpsPort);
    browser = await launchChromium(certs.certificatePath);
    context = await browser.newContext({ httpCredentials: USER, viewport: { width: 390, height: 844 } });
});

afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await Promise.all([hello?.service.stop(), bos?.service.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
});

test("the landing page lists both models with their docs links and fits a phone screen", async () => {
    const page = await context.newPage();
    const response = await page.goto(`${base}/`);
    expect(response!.status()).toBe(200);
    expect(await page.locator("section h2").allTextContents()).toEqual(["hello", "bos-rf"]);
    expect(await page.locator("section#model-bos-rf a", { hasText: "API docs" }).getAttribute("href")).toBe("/bos-rf/__docs__/");
    expect(await page.locator("section#model-hello a", { hasText: "OpenAPI spec" }).getAttribute("href")).toBe("/hello/openapi.json");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "gateway-landing.png"), fullPage: true });
    await page.close();
});

test("a link on the landing page opens Swagger UI for bos-rf, which loaded its spec through the prefix", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${base}/`);
    const spec = page.waitForResponse((r) => r.url().endsWith("/openapi.json"));
    await page.locator("section#model-bos-rf a", { hasText: "API docs" }).click();
    const specResponse = await spec;
    expect(specResponse.url()).toBe(`${base}/bos-rf/openapi.json`);
    expect(specResponse.status()).toBe(200);
    expect(page.url()).toBe(`${base}/bos-rf/__docs__/`);
    const operation = page.locator(".opblock-post .opblock-summary-path", { hasText: "/score" });
    await operation.waitFor({ timeout: 30_000 });
    // Swagger UI puts zero-width spaces into paths so they can wrap.
    const paths = (await page.locator(".opblock-summary-path").allTextContents()).map((text) => text.replace(/\u200b/g, ""));
    expect(paths.sort()).toEqual(["/healthz", "/score"]);
    await page.screenshot({ path: path.join(ARTIFACTS, "gateway-bos-rf-docs.png"), fullPage: true });
    await page.close();
});

test('"Try it out" on /bos-rf/score calls the model through the prefix (the model answers its own 400 to an empty body)', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${base}/bos-rf/__docs__/`);
    await page.locator(".opblock-post .opblock-summary", { hasText: "/score" }).click();
    await page.locator(".try-out__btn").click();
    const call = page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/score"));
    await page.locator(".execute").click();
    const response = await call;
    expect(response.url()).toBe(`${base}/bos-rf/score`);
    expect(response.status()).toBe(400);
    expect(await response.json()).toEqual({ error: "the body must be JSON: an array of row objects" });
    await page.locator(".live-responses-table").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateway-bos-rf-try-it-out.png"), fullPage: true });
    await page.close();
});

test('"Try it out" on /hello/echo gets a 200 through the prefix', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${base}/hello/__docs__/`);
    await page.locator(".opblock-get .opblock-summary", { hasText: "/echo" }).click();
    await page.locator(".try-out__btn").click();
    await page.locator('tr[data-param-name="msg"] input').fill("from the browser");
    const call = page.waitForResponse((r) => r.url().includes("/echo?"));
    await page.locator(".execute").click();
    const response = await call;
    expect(response.url()).toBe(`${base}/hello/echo?msg=from%20the%20browser`);
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ msg: ["The message is: 'from the browser'"] });
    await page.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "gateway-hello-try-it-out.png"), fullPage: true });
    await page.close();
});
