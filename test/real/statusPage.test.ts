/**
 * The status page in a real browser: Debian chromium (headless, playwright-core) against nginx with TLS, basic auth and
 * `metrics: true` in front of the hello example model (a real R plumber process) under a bounded load, and a model
 * whose port has nothing listening (the injected failure). The numbers must move while the load runs, the failing
 * model must show red, the page must load nothing the CSP refuses, and fit a phone in dark mode. Screenshots go to
 * test-artifacts/. Loopback only.
 */
import * as fs from "fs";
import * as path from "path";
import { Browser, BrowserContext, Page } from "playwright-core";
import { STATUS_PAGE_PATHS, STATUS_REFRESH_SECONDS } from "../../components/render/statusPage";
import {
    gatewayPaths,
    makeTls,
    PlumberModel,
    request,
    startExampleModel,
    startNginx,
    tempDir,
    TestTls,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../helpers/gateway";
import { launchChromium } from "../helpers/browser";
import { runBoundedLoad } from "../helpers/load";
import { freePort, Service } from "../helpers/processes";

jest.setTimeout(300_000);

const ARTIFACTS = path.join(__dirname, "../../test-artifacts");
const USER = { username: "alice", password: "alice-password-0123456789" };

const dir = tempDir("plumberhub-status-page-");
let certs: TestTls;
let hello: PlumberModel;
let nginx: Service;
let browser: Browser;
let context: BrowserContext;
let base: string;

/** A bounded load on hello (and a few requests to the broken model) while `during` runs. */
async function underLoad(during: () => Promise<void>): Promise<void> {
    let done = false;
    const auth = { ca: certs.ca, user: USER.username, password: USER.password, servername: "localhost" };
    let sent = 0;
    const load = runBoundedLoad(
        async () => {
            sent++;
            // One request in twenty to the broken model: its 502s make it fail.
            const target = sent % 20 === 0 ? "/broken/x" : "/hello/echo?msg=status";
            const reply = await request(`${base}${target}`, auth);
            return reply.status === 200 || (target === "/broken/x" && reply.status === 502) ? null : `HTTP ${reply.status}`;
        },
        { concurrency: 4, maxRequests: 20_000, maxMs: 120_000, stop: () => done },
    );
    try {
        await during();
    } finally {
        done = true;
    }
    expect((await load).failures).toEqual([]);
}

/** The text of one cell of a model's row. */
const cell = (page: Page, model: string, column: string) => page.locator(`#model-${model} td.${column}`).textContent();

beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const [httpsPort, httpPort] = await twoPorts();
    base = `https://localhost:${httpsPort}`;
    certs = await makeTls(dir);
    const paths = gatewayPaths(dir);
    writeHtpasswd(paths.htpasswd, { [USER.username]: USER.password });
    hello = await startExampleModel("hello", dir);
    const conf = writeGateway(dir, {
        models: [
            { name: "hello", upstream: `127.0.0.1:${hello.port}` },
            { name: "broken", upstream: `127.0.0.1:${await freePort()}` },
            { name: "quiet", upstream: `127.0.0.1:${hello.port}` },
        ],
        routing: { mode: "static" },
        tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
        paths,
        listenAddress: "127.0.0.1",
        httpsPort,
        httpPort,
        workerProcesses: 2,
        metrics: true,
    });
    nginx = await startNginx(dir, conf, httpsPort);
    browser = await launchChromium(certs.certificatePath);
    context = await browser.newContext({ httpCredentials: USER, viewport: { width: 1280, height: 720 } });
});

afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await hello?.service.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

test("the landing page links to the status page", async () => {
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator(`a[href="${STATUS_PAGE_PATHS.page}"]`).click();
    expect(page.url()).toBe(`${base}${STATUS_PAGE_PATHS.page}`);
    await page.close();
});

test("the status page asks for the gateway's credentials", async () => {
    expect((await request(`${base}${STATUS_PAGE_PATHS.page}`, { ca: certs.ca, servername: "localhost" })).status).toBe(401);
});

test("under load the numbers move, the failing model shows red, the idle one grey, and the CSP refuses nothing", async () => {
    const page = await context.newPage();
    const refused: string[] = [];
    page.on("console", (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    const external: string[] = [];
    page.on("request", (req) => {
        if (!req.url().startsWith(base)) external.push(req.url());
    });
    const response = await page.goto(`${base}${STATUS_PAGE_PATHS.page}`);
    expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator("body[data-loaded=true]").waitFor();
    await underLoad(async () => {
        // Two refreshes apart, under load: hello's request count grows and its rate is above zero.
        await page.locator("#model-hello").waitFor();
        await page.waitForFunction(() => Number(document.querySelector("#model-hello td.requests")?.textContent) > 50, undefined, {
            timeout: 60_000,
        });
        const first = Number(await cell(page, "hello", "requests"));
        await page.waitForFunction((before) => Number(document.querySelector("#model-hello td.requests")?.textContent) > before, first, {
            timeout: (STATUS_REFRESH_SECONDS * 3 + 5) * 1000,
        });
        expect(Number(await cell(page, "hello", "rate1m"))).toBeGreaterThan(0);
        expect(await cell(page, "hello", "p50")).toMatch(/^\d+(\.\d+)? (ms|s)$/);
        await page.screenshot({ path: path.join(ARTIFACTS, "status-page.png"), fullPage: true });
    });
    expect(await cell(page, "hello", "health")).toBe("ok");
    expect(await cell(page, "broken", "health")).toBe("failing");
    expect(await cell(page, "broken", "errorRate")).toBe("100 %");
    expect(await cell(page, "quiet", "health")).toBe("idle");
    const red = await page.locator("#model-broken .badge").evaluate((badge) => getComputedStyle(badge).backgroundColor);
    expect(red).toBe("rgb(207, 34, 46)");
    expect(await page.locator("#certificate").textContent()).toMatch(/^certificate: \d+ days? left \(until \d{4}-\d\d-\d\dT/);
    expect(refused).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
});

test("on a phone in dark mode each model is a card that fits the screen", async () => {
    const phone = await browser.newContext({ httpCredentials: USER, viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    const page = await phone.newPage();
    await page.goto(`${base}${STATUS_PAGE_PATHS.page}`);
    await page.locator("body[data-loaded=true]").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator("thead").isVisible()).toBe(false);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(13, 17, 23)");
    // The label of each value comes from the cell (data-label), so a card reads without the table header.
    expect(await page.locator("#model-hello td.p99").getAttribute("data-label")).toBe("p99");
    await page.screenshot({ path: path.join(ARTIFACTS, "status-page-phone-dark.png"), fullPage: true });
    await phone.close();
});
