/**
 * The per-model metrics switch: `plumberhub:gateway.metrics` in the stack config, its rule on the gateway image, and
 * what the renderers make of it on both targets (the counting itself runs in real nginx: test/real/gatewayMetrics).
 */
import { checkStackConfig } from "../../components/config/stackConfig";
import {
    GatewayConfig,
    landingFiles,
    METRICS_MODULES,
    METRICS_PATH,
    renderGatewayFiles,
    renderNginxConf,
    STATUS_JSON_PATH,
} from "../../components/render/gateway";
import { renderStatusPage, STATUS_PAGE_CSP, STATUS_PAGE_PATHS } from "../../components/render/statusPage";
import { kubernetesGatewaySettings, swarmGatewaySettings } from "../../components/render/hubConfigInputs";
import { renderKubernetesGatewayFiles } from "../../components/render/kubernetes";
import { renderSwarmGatewayConfigs } from "../../components/render/swarm";
import { problemsOf } from "../helpers/configProblems";
import { PROJECT_DIR, stackConfig } from "../helpers/stackProgram";

const BASE: GatewayConfig = {
    models: [{ name: "hello", upstream: "127.0.0.1:8000" }],
    routing: { mode: "static" },
    tls: "http-only",
    paths: { htpasswd: "/etc/plumberhub/htpasswd", landingDir: "/usr/share/plumberhub" },
};

function withGateway(
    stack: "dev" | "prod",
    gateway: Record<string, unknown>,
    options: { localImages?: boolean; more?: Record<string, string> } = {},
) {
    const entries = stackConfig(stack);
    const current = JSON.parse(entries["plumberhub:gateway"]) as Record<string, unknown>;
    return checkStackConfig(
        { ...entries, "plumberhub:gateway": JSON.stringify({ ...current, ...gateway }), ...options.more },
        () => false,
        PROJECT_DIR,
        {
            localImages: options.localImages ?? stack === "dev",
        },
    ).config;
}

describe("plumberhub:gateway.metrics", () => {
    test("is off by default", () => {
        expect(withGateway("dev", {}).gateway.metrics).toBe(false);
    });

    test("true turns them on with an image that has the Lua module (the local one)", () => {
        expect(withGateway("dev", { metrics: true }).gateway.metrics).toBe(true);
    });

    test("refuses anything but true or false, naming the key and the value", () => {
        expect(problemsOf(() => withGateway("dev", { metrics: "yes" }))).toEqual([
            '`plumberhub:gateway.metrics` must be true (per-model metrics at /metrics) or false, got "yes"',
        ]);
    });

    test("on a swarm needs a named gateway image: the default nginx image has no Lua module", () => {
        expect(problemsOf(() => withGateway("dev", { metrics: true }, { localImages: false }))).toEqual([
            '`plumberhub:swarm.gatewayImage` is required with `plumberhub:gateway.metrics` true: an image with Debian\'s nginx and its Lua module (libnginx-mod-http-lua), which the default nginx image lacks (README "Metrics" has its Dockerfile; scripts/build-local-images.sh builds one)',
        ]);
    });

    test("on AKS needs a named gateway image too", () => {
        expect(problemsOf(() => withGateway("prod", { metrics: true }))).toEqual([
            '`plumberhub:aks.gatewayImage` is required with `plumberhub:gateway.metrics` true: an image with Debian\'s nginx and its Lua module (libnginx-mod-http-lua), which the default nginx image lacks (README "Metrics" has its Dockerfile; scripts/build-local-images.sh builds one)',
        ]);
    });
});

describe("the rendered nginx.conf", () => {
    test("without metrics loads no module and has no /metrics", () => {
        const conf = renderNginxConf(BASE);
        expect(conf).not.toContain("load_module");
        expect(conf).not.toContain("lua");
        expect(conf).not.toContain(`location = ${METRICS_PATH}`);
    });

    test("with metrics loads Debian's NDK and Lua modules first, before anything else of the main context", () => {
        const lines = renderNginxConf({ ...BASE, metrics: true }).split("\n");
        const first = lines.findIndex((line) => !line.startsWith("#"));
        expect(lines.slice(first, first + 2)).toEqual(METRICS_MODULES.map((module) => `load_module ${module};`));
    });

    test("with metrics serves /metrics in the main server, behind its basic auth (no auth_basic off there)", () => {
        const conf = renderNginxConf({ ...BASE, metrics: true });
        const location = conf.slice(conf.indexOf(`location = ${METRICS_PATH} {`));
        expect(location.slice(0, location.indexOf("content_by_lua_block"))).not.toContain("auth_basic off");
        expect(conf).toContain("lua_shared_dict plumberhub_metrics");
        expect(conf).toContain("log_by_lua_block {");
    });

    test("refuses a metrics switch that is not a boolean", () => {
        expect(() => renderNginxConf({ ...BASE, metrics: "on" as unknown as boolean })).toThrow(
            '`metrics` must be true (per-model metrics at /metrics) or false, got "on"',
        );
    });
});

describe("both targets carry the switch from the stack config to nginx.conf", () => {
    test("swarm", () => {
        const config = withGateway("dev", { metrics: true });
        expect(renderSwarmGatewayConfigs(swarmGatewaySettings(config)).nginxConf).toContain(`location = ${METRICS_PATH} {`);
        expect(renderSwarmGatewayConfigs(swarmGatewaySettings(withGateway("dev", {}))).nginxConf).not.toContain("lua");
    });

    test("AKS", () => {
        const aks = JSON.parse(stackConfig("prod")["plumberhub:aks"]) as Record<string, unknown>;
        const gatewayImage = `registry.example.com/gateway@sha256:${"a".repeat(64)}`;
        const config = withGateway("prod", { metrics: true }, { more: { "plumberhub:aks": JSON.stringify({ ...aks, gatewayImage }) } });
        const settings = kubernetesGatewaySettings(config);
        expect(settings).toMatchObject({ image: gatewayImage, metrics: true });
        expect(renderKubernetesGatewayFiles({ namespace: "models", models: [], metrics: settings.metrics }).nginxConf).toContain(
            `location = ${METRICS_PATH} {`,
        );
    });
});

describe("the status page", () => {
    test("comes with metrics only: the page, its script and style, and a link on the landing page", () => {
        const without = renderGatewayFiles(BASE);
        expect(Object.keys(without).sort()).toEqual(["index.html", "nginx.conf"]);
        expect(without["index.html"]).not.toContain(`href="${STATUS_PAGE_PATHS.page}"`);
        const withMetrics = renderGatewayFiles({ ...BASE, metrics: true });
        expect(Object.keys(landingFiles(withMetrics)).sort()).toEqual(["index.html", "status.css", "status.html", "status.js"]);
        expect(withMetrics["index.html"]).toContain(`href="${STATUS_PAGE_PATHS.page}"`);
    });

    test("is served under a CSP that allows only the gateway's own script, style and JSON, nothing inline", () => {
        const conf = renderNginxConf({ ...BASE, metrics: true });
        const location = conf.slice(conf.indexOf(`location = ${STATUS_PAGE_PATHS.page} {`));
        expect(location.slice(0, location.indexOf("}"))).toContain(`add_header Content-Security-Policy "${STATUS_PAGE_CSP}" always;`);
        expect(STATUS_PAGE_CSP).not.toContain("unsafe");
        expect(STATUS_PAGE_CSP).toMatch(/default-src 'none'/);
    });

    test("has no inline script or style, so the CSP holds", () => {
        const page = renderStatusPage("t", STATUS_JSON_PATH)["status.html"];
        expect(page).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/);
    });

    test("writes the gateway's numbers as text, never as HTML", () => {
        expect(renderStatusPage("t", STATUS_JSON_PATH)["status.js"]).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    });

    test("escapes the gateway's title", () => {
        expect(renderStatusPage("<b>models</b>", STATUS_JSON_PATH)["status.html"]).toContain("&lt;b&gt;models&lt;/b&gt;");
    });
});
