import * as path from "path";
import { parse } from "yaml";
import { MODEL_IDLE_WAIT_SECONDS, renderModelContainerFiles } from "../../components/render/modelContainer";
import {
    contentName,
    dockerDuration,
    isDockerDuration,
    planGatewayFiles,
    planGatewayService,
    planModelService,
    planRegistryFiles,
    planEdgeService,
    planRegistryService,
    planSwarmStack,
    renderSwarmGatewayConfigs,
    renderComposeStack,
    renderSwarmStackFiles,
    STACK_FILE_NAME,
    SwarmStackInput,
} from "../../components/render/swarm";
import { Model, validateModel } from "../../components/config";

const hello: Model = validateModel({ name: "hello", image: "registry.test:5000/hello:1", env: { GREETING: "hi" } });
const rf: Model = validateModel({
    name: "bos-rf",
    image: "registry.test:5000/bos-rf:1",
    replicas: 2,
    cpu: { request: "500m", limit: "1" },
    memory: { request: "1Gi", limit: "2Gi" },
});
const configs = {
    nginxConf: "events {}\nhttp { server { listen 443 ssl; } }\n",
    staticFiles: { "index.html": "<h1>models</h1>\n" },
    edgeConf: "events {}\nstream {}\n",
};
const secrets = {
    tlsCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    tlsKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    htpasswd: "alice:{SSHA}abc\n",
};
const settings = { models: [{ name: "hello" }, { name: "bos-rf" }] };

function stackInput(overrides: Partial<SwarmStackInput> = {}): SwarmStackInput {
    return {
        prefix: "dev",
        networkName: "dev-hub",
        models: [
            { model: hello, image: "registry.test:5000/hello@sha256:" + "1".repeat(64) },
            { model: rf, image: "registry.test:5000/bos-rf@sha256:" + "2".repeat(64) },
        ],
        gateway: { settings, secrets, options: { httpsPort: 8443, httpPort: 8080 } },
        ...overrides,
    };
}

describe("planModelService", () => {
    const service = planModelService(rf, { image: "img@sha256:" + "3".repeat(64) });

    test("names the service after the model, and gives it the model alias the gateway routes to", () => {
        expect(service.name).toBe("bos-rf");
        expect(service.aliases).toEqual(["bos-rf.models.plumberhub.internal"]);
    });

    test("sets PUBLIC_PATH_PREFIX, PORT and the stop wait beside the model's own env", () => {
        expect(planModelService(hello, { image: "x" }).env).toEqual({
            GREETING: "hi",
            PLUMBERHUB_IDLE_WAIT_SECONDS: "120",
            PORT: "8000",
            PUBLIC_PATH_PREFIX: "/hello",
        });
    });

    test("a stopping task waits for R as long as the gateway's read timeout, and swarm's grace covers the wait", () => {
        const plan = planModelService(hello, { image: "x", gatewayReadTimeoutSeconds: 600 });
        expect(plan.env.PLUMBERHUB_IDLE_WAIT_SECONDS).toBe("600");
        expect(plan.stopGracePeriod).toBe("10m5s");
    });

    test("refuses a read timeout beyond an hour", () => {
        expect(() => planModelService(hello, { image: "x", gatewayReadTimeoutSeconds: 3601 })).toThrow(
            "`gatewayReadTimeoutSeconds` must be an integer from 1 to 3600, got 3601",
        );
    });

    test("turns cpu and memory quantities into nano-cpus and bytes", () => {
        expect(service.resources).toEqual({
            limits: { nanoCpus: 1e9, memoryBytes: 2 * 2 ** 30 },
            reservations: { nanoCpus: 5e8, memoryBytes: 2 ** 30 },
        });
    });

    test("reserves nothing for a model that names no request, and keeps its limits", () => {
        expect(planModelService(hello, { image: "x" }).resources).toEqual({ limits: { nanoCpus: 5e8, memoryBytes: 2 ** 30 } });
    });

    test("probes /healthz with the built image's own command every 5 s", () => {
        const built = validateModel({ name: "hello", path: "examples/models/hello" }, { baseDir: path.resolve(__dirname, "../..") });
        const healthcheck = planModelService(built, { image: "x" }).healthcheck!;
        expect(healthcheck.test[0]).toBe("CMD");
        expect(healthcheck.test.join(" ")).toContain("GET /healthz");
        expect(renderModelContainerFiles({ packages: [], port: 8000 }).Dockerfile).toContain(`CMD ${JSON.stringify(healthcheck.test.slice(1))}`);
        expect(healthcheck).toMatchObject({ interval: "5s", timeout: "5s", retries: 3, startPeriod: "1m" });
    });

    test("leaves a prebuilt image's healthcheck alone", () => {
        expect(service.healthcheck).toBeUndefined();
    });

    test("rolls start-first and rolls back when a new task fails", () => {
        expect(service.update).toMatchObject({ order: "start-first", failureAction: "rollback", parallelism: 1 });
    });

    test("stops tasks with SIGTERM and a grace period that covers the entrypoint's wait for R to be idle", () => {
        expect(MODEL_IDLE_WAIT_SECONDS).toBe(120);
        expect(service).toMatchObject({ stopSignal: "SIGTERM", stopGracePeriod: "2m5s" }); // 120 s wait + 5 s for R's exit
    });

    test("uses the model's replicas and vip unless told otherwise", () => {
        expect(service.replicas).toBe(2);
        expect(service.endpointMode).toBe("vip");
        expect(planModelService(rf, { image: "x", replicas: 4, endpointMode: "dnsrr" })).toMatchObject({ replicas: 4, endpointMode: "dnsrr" });
    });

    test("labels the service with its role and model", () => {
        expect(service.labels).toEqual({ "org.plumberhub.role": "model", "org.plumberhub.model": "bos-rf" });
    });

    test("rejects an unknown endpoint mode", () => {
        expect(() => planModelService(rf, { image: "x", endpointMode: "rr" as never })).toThrow(
            '`models.bos-rf.endpointMode` must be "vip" or "dnsrr", got "rr"',
        );
    });

    test("rejects a malformed placement constraint", () => {
        expect(() => planModelService(rf, { image: "x", constraints: ["node.role manager"] })).toThrow(
            '`models.bos-rf.constraints[0]` must look like "node.role == manager" (attribute, == or !=, value), got "node.role manager"',
        );
    });

    test("rejects zero replicas", () => {
        expect(() => planModelService(rf, { image: "x", replicas: 0 })).toThrow("`models.bos-rf.replicas` must be an integer from 1 to 100, got 0");
    });
});

describe("gateway plan", () => {
    test("names every file by the hash of its contents", () => {
        const files = planGatewayFiles("dev", configs, secrets);
        expect(files.configs.map((f) => f.name)).toEqual([
            contentName("dev", "nginx.conf", configs.nginxConf),
            contentName("dev", "edge.conf", configs.edgeConf),
            contentName("dev", "static-index.html", configs.staticFiles["index.html"]),
        ]);
        expect(files.configs[0].name).toMatch(/^dev-nginx\.conf-[0-9a-f]{12}$/);
        expect(files.secrets.map((f) => f.key)).toEqual(["tls.crt", "tls.key", "htpasswd"]);
    });

    test("a new nginx.conf changes only the nginx.conf config name", () => {
        const before = planGatewayFiles("dev", configs, secrets);
        const after = planGatewayFiles("dev", { ...configs, nginxConf: configs.nginxConf + "# changed\n" }, secrets);
        expect(after.configs[0].name).not.toBe(before.configs[0].name);
        expect(after.configs.slice(1)).toEqual(before.configs.slice(1));
        expect(after.secrets).toEqual(before.secrets);
    });

    test("mounts nginx.conf, static files and secrets where nginx.conf expects them", () => {
        const service = planGatewayService(planGatewayFiles("dev", configs, secrets));
        expect(service.configs.map((m) => [m.source, m.target])).toEqual([
            ["nginx.conf", "/etc/nginx/nginx.conf"],
            ["static-index.html", "/usr/share/nginx/html/index.html"],
        ]);
        expect(service.secrets.map((m) => [m.source, m.target, m.mode])).toEqual([
            ["tls.crt", "/run/secrets/tls.crt", 0o444],
            ["tls.key", "/run/secrets/tls.key", 0o400],
            ["htpasswd", "/run/secrets/htpasswd", 0o444],
        ]);
    });

    test("the edge publishes 443 and 80 through the routing mesh by default, and mounts only its own nginx.conf", () => {
        const edge = planEdgeService(planGatewayFiles("dev", configs, secrets));
        expect(edge.name).toBe("gateway-edge");
        expect(edge.ports).toEqual([
            { target: 443, published: 443, mode: "ingress" },
            { target: 80, published: 80, mode: "ingress" },
        ]);
        expect(edge.configs.map((m) => [m.source, m.target])).toEqual([["edge.conf", "/etc/nginx/nginx.conf"]]);
        expect(edge.secrets).toEqual([]);
    });

    test("in host mode the edge stops its old task first (one task per node can hold a host port)", () => {
        const edge = planEdgeService(planGatewayFiles("dev", configs, secrets), { publishMode: "host", endpointMode: "dnsrr" });
        expect(edge.update.order).toBe("stop-first");
        expect(edge.ports.map((p) => p.mode)).toEqual(["host", "host"]);
    });

    test("the gateway publishes nothing and starts its new task first in both publish modes", () => {
        for (const publishMode of ["ingress", "host"] as const) {
            const gateway = planGatewayService(planGatewayFiles("dev", configs, secrets), { publishMode });
            expect([gateway.ports, gateway.update.order, gateway.rollback.order]).toEqual([[], "start-first", "start-first"]);
        }
    });

    test("the gateway answers to the name the edge resolves, and stops gracefully within the read timeout", () => {
        const gateway = planGatewayService(planGatewayFiles("dev", configs, secrets));
        expect(gateway.aliases).toEqual(["gateway.plumberhub.internal"]);
        expect([gateway.stopSignal, gateway.stopGracePeriod]).toEqual(["SIGQUIT", "2m5s"]);
    });

    test("the gateway's healthcheck proves TLS and auth on its local listener", () => {
        const { healthcheck } = planGatewayService(planGatewayFiles("dev", configs, secrets));
        expect(healthcheck?.test).toEqual([
            "CMD-SHELL",
            "curl -fsk -o /dev/null https://127.0.0.1:8443/healthz && [ \"$(curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:8443/)\" = 401 ]",
        ]);
    });

    test("refuses dnsrr with ingress-published ports", () => {
        expect(() => planGatewayService(planGatewayFiles("dev", configs, secrets), { endpointMode: "dnsrr" })).toThrow(
            '`args.publishMode` must be "host" when `args.endpointMode` is "dnsrr": Docker refuses ingress-published ports on a dnsrr service',
        );
    });

    test("refuses a static file in a folder", () => {
        expect(() => planGatewayFiles("dev", { ...configs, staticFiles: { "css/site.css": "" } }, secrets)).toThrow(
            '`staticFiles` keys must be plain file names (letters, digits, "_", ".", "-"; no folders), got "css/site.css"',
        );
    });

    test("refuses the same port for HTTPS and HTTP", () => {
        expect(() => planGatewayService(planGatewayFiles("dev", configs, secrets), { httpsPort: 80 })).toThrow(
            "`args.httpsPort` and `args.httpPort` must differ, both are 80",
        );
    });
});

describe("swarm gateway config", () => {
    const nginxConf = renderSwarmGatewayConfigs(settings, 8443).nginxConf;

    test("routes models by their model alias through Docker's DNS, never by a bare service name", () => {
        expect(nginxConf).toContain("resolver 127.0.0.11 valid=1s ipv6=off;");
        expect(nginxConf).toContain('set $plumberhub_upstream_host "${plumberhub_model}.models.plumberhub.internal";');
        expect(nginxConf).not.toContain('set $plumberhub_upstream_host "${plumberhub_model}";');
        expect(nginxConf).toContain("proxy_pass http://$plumberhub_upstream_host:8000;");
    });

    test("reads certificate, key and htpasswd where the service mounts them", () => {
        expect(nginxConf).toContain("ssl_certificate /run/secrets/tls.crt;");
        expect(nginxConf).toContain("ssl_certificate_key /run/secrets/tls.key;");
        expect(nginxConf).toContain("auth_basic_user_file /run/secrets/htpasswd;");
        expect(nginxConf).toContain("root /usr/share/nginx/html;");
    });

    test("redirects HTTP to the published HTTPS port", () => {
        expect(nginxConf).toContain("return 301 https://$host:8443$request_uri;");
    });

    test("passes the renderer's validation errors through", () => {
        expect(() => renderSwarmGatewayConfigs({ models: [{ name: "Bad_Name" }] })).toThrow("`models[0].name` must be");
    });
});

describe("registry plan", () => {
    const secrets = planRegistryFiles("dev", { tlsCertificate: "cert", tlsKey: "key", htpasswd: "pusher:$2y$05$abc" });
    const service = planRegistryService(secrets, { volume: "dev-registry-data", port: 5443 });

    test("serves TLS with htpasswd auth from the mounted secrets", () => {
        expect(service.env).toMatchObject({
            REGISTRY_HTTP_TLS_CERTIFICATE: "/run/secrets/registry.crt",
            REGISTRY_HTTP_TLS_KEY: "/run/secrets/registry.key",
            REGISTRY_AUTH: "htpasswd",
            REGISTRY_AUTH_HTPASSWD_PATH: "/run/secrets/registry.htpasswd",
        });
        expect(service.secrets.map((s) => s.target)).toEqual([
            "/run/secrets/registry.crt",
            "/run/secrets/registry.key",
            "/run/secrets/registry.htpasswd",
        ]);
    });

    test("keeps its data on the named volume and stays on a manager", () => {
        expect(service.volumes).toEqual([{ source: "dev-registry-data", target: "/var/lib/registry" }]);
        expect(service.constraints).toEqual(["node.role == manager"]);
        expect(service.ports).toEqual([{ target: 5000, published: 5443, mode: "ingress" }]);
    });

    test("keeps the manager pin when given constraints of its own, and adds them", () => {
        const pinned = planRegistryService(secrets, { volume: "v", constraints: ["node.labels.disk == ssd", "node.role == manager"] });
        expect(pinned.constraints).toEqual(["node.role == manager", "node.labels.disk == ssd"]);
    });
});

describe("durations", () => {
    test("are spelled the way the Docker provider reads them back", () => {
        expect([0, 5, 45, 60, 90, 3600, 3605, 7200].map(dockerDuration)).toEqual(["0s", "5s", "45s", "1m", "1m30s", "1h", "1h0m5s", "2h"]);
    });

    test("spelled another way are told apart", () => {
        expect(["60s", "90s", "1h0m", "0m", "", "5"].filter(isDockerDuration)).toEqual([]);
        expect(["0s", "1m", "1m30s", "2h", "10s"].every(isDockerDuration)).toBe(true);
    });

    test("in every planned service are spelled so, or every preview would show a change", () => {
        // Every string of a plan that looks like a duration: model, gateway and registry services alike.
        const durations = (value: unknown): string[] =>
            typeof value === "string"
                ? /^(\d+[hms])+$/.test(value)
                    ? [value]
                    : []
                : value && typeof value === "object"
                  ? Object.values(value).flatMap(durations)
                  : [];
        const plan = planSwarmStack(
            stackInput({ registry: { secrets: { ...secrets, htpasswd: "pusher:$2y$05$abc" }, options: { volume: "dev-registry-data" } } }),
        );
        const found = plan.services.flatMap(durations);
        expect(found.length).toBeGreaterThan(10);
        expect(found.filter((text) => !isDockerDuration(text))).toEqual([]);
    });
});

describe("compose export", () => {
    const plan = planSwarmStack(stackInput());
    const compose = renderComposeStack(plan) as any;

    test("is a v3.8 stack with one service per model plus the gateway", () => {
        expect(compose.version).toBe("3.8");
        expect(Object.keys(compose.services)).toEqual(["hello", "bos-rf", "gateway", "gateway-edge"]);
    });

    test("creates the attachable overlay network under its exported name", () => {
        expect(compose.networks).toEqual({ hub: { name: "dev-hub", driver: "overlay", attachable: true } });
    });

    test("joins an existing network when asked", () => {
        const external = renderComposeStack(planSwarmStack(stackInput({ externalNetwork: true, gateway: undefined }))) as any;
        expect(external.networks).toEqual({ hub: { name: "dev-hub", external: true } });
        expect(Object.keys(external.services)).toEqual(["hello", "bos-rf"]);
    });

    test("writes the model's deploy section from the plan", () => {
        expect(compose.services["bos-rf"].deploy).toEqual({
            mode: "replicated",
            replicas: 2,
            endpoint_mode: "vip",
            labels: { "org.plumberhub.role": "model", "org.plumberhub.model": "bos-rf" },
            resources: { limits: { cpus: "1", memory: String(2 * 2 ** 30) }, reservations: { cpus: "0.5", memory: String(2 ** 30) } },
            restart_policy: { condition: "any", delay: "5s", max_attempts: 0, window: "0s" },
            update_config: { parallelism: 1, delay: "0s", order: "start-first", failure_action: "rollback", monitor: "30s" },
            rollback_config: { parallelism: 1, delay: "0s", order: "start-first", failure_action: "pause", monitor: "30s" },
            placement: { preferences: [{ spread: "node.id" }] },
        });
        expect(compose.services["bos-rf"].networks).toEqual({ hub: { aliases: ["bos-rf.models.plumberhub.internal"] } });
        expect(compose.services["bos-rf"]).toMatchObject({ stop_signal: "SIGTERM", stop_grace_period: "2m5s" });
        expect(compose.services["bos-rf"].healthcheck).toBeUndefined();
    });

    test("points configs and secrets at their files under their content-hashed names", () => {
        expect(compose.configs["nginx.conf"]).toEqual({ name: plan.configs[0].name, file: "./configs/nginx.conf" });
        expect(compose.secrets["tls.key"]).toEqual({ name: plan.secrets[1].name, file: "./secrets/tls.key" });
        expect(compose.services["gateway-edge"].ports).toEqual([
            { target: 443, published: 8443, protocol: "tcp", mode: "ingress" },
            { target: 80, published: 8080, protocol: "tcp", mode: "ingress" },
        ]);
    });

    test("renders the stack file and every config and secret file", () => {
        const files = renderSwarmStackFiles(plan);
        expect(Object.keys(files).sort()).toEqual(
            [
                STACK_FILE_NAME,
                "configs/edge.conf",
                "configs/nginx.conf",
                "configs/static-index.html",
                "secrets/htpasswd",
                "secrets/tls.crt",
                "secrets/tls.key",
            ].sort(),
        );
        expect(parse(files[STACK_FILE_NAME])).toEqual(compose);
        expect(files["secrets/tls.key"]).toBe(secrets.tlsKey);
        expect(files["configs/nginx.conf"]).toBe(renderSwarmGatewayConfigs(settings, 8443).nginxConf);
    });

    test("escapes $ so docker stack deploy does not substitute the deploying shell's variables", () => {
        const withDollar = validateModel(
            { name: "hello", path: "examples/models/hello", env: { PRICE: "$5", HOME_DIR: "${HOME}" } },
            { baseDir: path.resolve(__dirname, "../..") },
        );
        const doc = renderComposeStack(planSwarmStack(stackInput({ models: [{ model: withDollar, image: "x" }], gateway: undefined }))) as any;
        expect(doc.services.hello.environment).toMatchObject({ PRICE: "$$5", HOME_DIR: "$${HOME}" });
        const probe = planModelService(withDollar, { image: "x" }).healthcheck!.test;
        expect(doc.services.hello.healthcheck.test).toEqual(probe.map((arg) => arg.split("$").join("$$")));
        expect(probe.join(" ")).toContain("$");
    });

    test("keeps secret contents out of the stack file", () => {
        const stackFile = renderSwarmStackFiles(plan)[STACK_FILE_NAME];
        expect(stackFile).not.toContain("PRIVATE KEY");
        expect(stackFile).not.toContain("{SSHA}");
    });

    test("exports a registry-only stack with its secrets and data volume", () => {
        const registryPlan = planSwarmStack({
            prefix: "dev",
            models: [],
            registry: { secrets: { tlsCertificate: "c", tlsKey: "k", htpasswd: "pusher:$2y$05$x" }, options: { volume: "dev-registry-data" } },
        });
        const doc = renderComposeStack(registryPlan) as any;
        expect(Object.keys(doc.services)).toEqual(["registry"]);
        expect(Object.keys(doc.secrets)).toEqual(["registry.crt", "registry.key", "registry.htpasswd"]);
        expect(doc.volumes).toEqual({ "dev-registry-data": { name: "dev-registry-data" } });
        expect(doc.services.registry.volumes).toEqual([{ type: "volume", source: "dev-registry-data", target: "/var/lib/registry" }]);
    });

    test("refuses a model named like the gateway", () => {
        const clash = validateModel({ name: "gw", image: "registry.test:5000/gw:1" });
        expect(() =>
            planSwarmStack(stackInput({ models: [{ model: clash, image: "x" }], gateway: { settings, secrets, options: { name: "gw" } } })),
        ).toThrow("`models` has two services named `gw`; service names must be unique in a stack");
    });

    test("refuses a prefix that makes config names longer than Docker allows", () => {
        const prefix = "p".repeat(45);
        expect(() => planSwarmStack(stackInput({ prefix }))).toThrow(
            new RegExp(
                `^\`prefix\` "${prefix}" is too long: the swarm object name \`${prefix}-nginx\\.conf-[0-9a-f]{12}\` has 69 characters, Docker allows 64$`,
            ),
        );
    });

    test("refuses a network name Docker would reject", () => {
        expect(() => planSwarmStack(stackInput({ networkName: "dev hub" }))).toThrow(
            '`networkName` must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got "dev hub"',
        );
    });
});
