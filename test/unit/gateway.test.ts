import {
    GatewayConfig,
    renderEdgeConf,
    renderGatewayFiles,
    renderNginxConf,
    validateEdgeConfig,
    validateGatewayConfig,
} from "../../components/render/gateway";
import { escapeHtml, renderLandingPage } from "../../components/render/landingPage";
import { MAX_MODEL_NAME_LENGTH, RESERVED_MODEL_NAMES } from "../../components/config";

const PATHS = { htpasswd: "/etc/plumberhub/htpasswd", landingDir: "/usr/share/plumberhub" };
const TLS = { certificatePath: "/etc/plumberhub/tls.crt", keyPath: "/etc/plumberhub/tls.key" };

function staticConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
    return {
        models: [
            { name: "hello", upstream: "hello:8000" },
            { name: "bos-rf", upstream: "10.0.0.7:8001", users: ["alice", "bob"] },
        ],
        routing: { mode: "static" },
        tls: TLS,
        paths: PATHS,
        ...overrides,
    };
}

function dnsConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
    return {
        models: [{ name: "hello" }, { name: "bos-rf", users: ["alice"] }],
        routing: { mode: "dns", resolver: ["10.0.0.10"], nameTemplate: "{model}.models.svc.cluster.local" },
        tls: TLS,
        paths: PATHS,
        ...overrides,
    };
}

/** The body of the `server { … }` block that starts at `listen <listen>`. */
function serverWith(conf: string, listen: string): string {
    const start = conf.indexOf(`listen ${listen}`);
    expect(start).toBeGreaterThan(0);
    return conf.slice(start, conf.indexOf("\n    }\n", start));
}

describe("validateGatewayConfig", () => {
    const cases: [string, GatewayConfig, string][] = [
        [
            "an uppercase model name",
            staticConfig({ models: [{ name: "Hello", upstream: "h:1" }] }),
            '`models[0].name` must be a model name ([a-z]([-a-z0-9]*[a-z0-9])?, at most 40 characters), got "Hello"',
        ],
        [
            "a dotted, host-like model name",
            staticConfig({ models: [{ name: "evil.com", upstream: "h:1" }] }),
            '`models[0].name` must be a model name ([a-z]([-a-z0-9]*[a-z0-9])?, at most 40 characters), got "evil.com"',
        ],
        [
            "an over-long model name",
            staticConfig({ models: [{ name: "a".repeat(41), upstream: "h:1" }] }),
            `\`models[0].name\` must be a model name ([a-z]([-a-z0-9]*[a-z0-9])?, at most 40 characters), got "${"a".repeat(41)}"`,
        ],
        [
            "a reserved model name",
            staticConfig({ models: [{ name: "healthz", upstream: "h:1" }] }),
            `\`models[0].name\` "healthz" is reserved (reserved: ${RESERVED_MODEL_NAMES.join(", ")})`,
        ],
        [
            "a duplicate model",
            staticConfig({
                models: [
                    { name: "a", upstream: "h:1" },
                    { name: "a", upstream: "h:2" },
                ],
            }),
            '`models[1].name` "a" is listed twice; names must be unique',
        ],
        [
            "a static model without upstream",
            staticConfig({ models: [{ name: "a" }] }),
            "`models[0].upstream` must be host:port (IPv6 in brackets) in static routing, got undefined",
        ],
        [
            "an upstream that injects a directive",
            staticConfig({ models: [{ name: "a", upstream: "h:1; include /etc/passwd" }] }),
            '`models[0].upstream` must be host:port (IPv6 in brackets) in static routing, got "h:1; include /etc/passwd"',
        ],
        [
            "an upstream port out of range",
            staticConfig({ models: [{ name: "a", upstream: "h:70000" }] }),
            '`models[0].upstream` must be host:port (IPv6 in brackets) in static routing, got "h:70000"',
        ],
        [
            "an upstream in dns mode",
            dnsConfig({ models: [{ name: "a", upstream: "h:1" }] }),
            '`models[0].upstream` must be left out in dns routing (the host comes from `routing.nameTemplate`), got "h:1"',
        ],
        [
            "an empty user list",
            staticConfig({ models: [{ name: "a", upstream: "h:1", users: [] }] }),
            "`models[0].users` must be a non-empty list of user names (leave it out to allow every user), got []",
        ],
        [
            "a user name that would break out of the map's quotes",
            staticConfig({ models: [{ name: "a", upstream: "h:1", users: ['x" 1; "y'] }] }),
            '`models[0].users[0]` must be a user name of 1 to 64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit, got "x\\" 1; \\"y"',
        ],
        [
            "a lower-case endpoint method",
            staticConfig({ models: [{ name: "a", upstream: "h:1", endpoints: [{ method: "get", path: "/x" }] }] }),
            '`models[0].endpoints[0].method` must be an upper-case HTTP method, got "get"',
        ],
        ["an unknown routing mode", staticConfig({ routing: { mode: "random" } as never }), '`routing.mode` must be "static" or "dns", got "random"'],
        [
            "a template without {model}",
            dnsConfig({ routing: { mode: "dns", resolver: ["1.1.1.1"], nameTemplate: "models.local" } }),
            '`routing.nameTemplate` must be a host name of more than one label containing {model} once (letters, digits, ._-), e.g. "{model}.models.plumberhub.internal" (a bare "{model}" would route to any service on the network), got "models.local"',
        ],
        [
            "a template with a path",
            dnsConfig({ routing: { mode: "dns", resolver: ["1.1.1.1"], nameTemplate: "{model}/x" } }),
            '`routing.nameTemplate` must be a host name of more than one label containing {model} once (letters, digits, ._-), e.g. "{model}.models.plumberhub.internal" (a bare "{model}" would route to any service on the network), got "{model}/x"',
        ],
        [
            "a bare {model} template (any service on the network by its name)",
            dnsConfig({ routing: { mode: "dns", resolver: ["1.1.1.1"], nameTemplate: "{model}" } }),
            '`routing.nameTemplate` must be a host name of more than one label containing {model} once (letters, digits, ._-), e.g. "{model}.models.plumberhub.internal" (a bare "{model}" would route to any service on the network), got "{model}"',
        ],
        [
            "a single-label template around {model}",
            dnsConfig({ routing: { mode: "dns", resolver: ["1.1.1.1"], nameTemplate: "hub-{model}" } }),
            '`routing.nameTemplate` must be a host name of more than one label containing {model} once (letters, digits, ._-), e.g. "{model}.models.plumberhub.internal" (a bare "{model}" would route to any service on the network), got "hub-{model}"',
        ],
        [
            "a model port in static routing",
            staticConfig({ models: [{ name: "a", upstream: "h:1", port: 8000 }] }),
            "`models[0].port` must be left out in static routing (the port is part of `upstream`), got 8000",
        ],
        [
            "a model port out of range",
            dnsConfig({ models: [{ name: "a", port: 70000 }] }),
            "`models[0].port` must be an integer from 1 to 65535, got 70000",
        ],
        [
            "no resolver",
            dnsConfig({ routing: { mode: "dns", resolver: [], nameTemplate: "{model}" } }),
            "`routing.resolver` must be a non-empty list of ip or ip:port, got []",
        ],
        [
            "a resolver with a scheme",
            dnsConfig({ routing: { mode: "dns", resolver: ["udp://10.0.0.10"], nameTemplate: "{model}" } }),
            '`routing.resolver[0]` must be ip or ip:port (IPv6 in brackets), got "udp://10.0.0.10"',
        ],
        [
            "a relative htpasswd path",
            staticConfig({ paths: { ...PATHS, htpasswd: "htpasswd" } }),
            '`paths.htpasswd` must be an absolute path of letters, digits and ._-/+@=, without `..`, got "htpasswd"',
        ],
        [
            "a path with a space",
            staticConfig({ tls: { ...TLS, keyPath: "/etc/my key.pem" } }),
            '`tls.keyPath` must be an absolute path of letters, digits and ._-/+@=, without `..`, got "/etc/my key.pem"',
        ],
        [
            "a path with ..",
            staticConfig({ paths: { ...PATHS, landingDir: "/srv/../etc" } }),
            '`paths.landingDir` must be an absolute path of letters, digits and ._-/+@=, without `..`, got "/srv/../etc"',
        ],
        [
            "tls neither files nor http-only",
            staticConfig({ tls: "http" as never }),
            '`tls` must be { certificatePath, keyPath } or "http-only", got "http"',
        ],
        [
            "a zero timeout",
            staticConfig({ limits: { readTimeoutSeconds: 0 } }),
            "`limits.readTimeoutSeconds` must be an integer from 1 to 3600, got 0",
        ],
        [
            "a negative keep-alive pool",
            staticConfig({ limits: { upstreamKeepalive: -1 } }),
            "`limits.upstreamKeepalive` must be an integer from 0 to 10000, got -1",
        ],
        [
            "a fractional body size",
            staticConfig({ limits: { maxBodyBytes: 1.5 } }),
            "`limits.maxBodyBytes` must be an integer from 0 to 1099511627776, got 1.5",
        ],
        ["the same port twice", staticConfig({ httpsPort: 8080, httpPort: 8080 }), "`httpPort` and `httpsPort` must differ, both are 8080"],
        ["a realm with a quote", staticConfig({ realm: 'a"b' }), '`realm` must be 1–64 letters, digits, spaces or ._-, got "a\\"b"'],
    ];
    test.each(cases)("refuses %s", (_, config, message) => {
        expect(() => validateGatewayConfig(config)).toThrow(message);
        expect(() => validateGatewayConfig(config)).toThrow(new Error(message));
    });

    test("accepts the longest allowed model name and IPv6 upstreams", () => {
        expect(() =>
            validateGatewayConfig(staticConfig({ models: [{ name: "a".repeat(MAX_MODEL_NAME_LENGTH), upstream: "[fd00::1]:8000" }] })),
        ).not.toThrow();
    });

    test("rendering validates first", () => {
        expect(() => renderNginxConf(staticConfig({ models: [{ name: "../x", upstream: "h:1" }] }))).toThrow("`models[0].name` must be a model name");
    });
});

describe("renderNginxConf, static routing with TLS", () => {
    const conf = renderNginxConf(staticConfig());

    test("one upstream per model, without a keep-alive pool by default", () => {
        expect(conf).toContain("upstream plumberhub_model_hello {\n        server hello:8000;\n    }");
        expect(conf).toContain("upstream plumberhub_model_bos-rf {\n        server 10.0.0.7:8001;\n    }");
        expect(conf).not.toMatch(/^\s*keepalive \d+;/m);
        expect(conf).toContain(
            "location ^~ /hello/ {\n            set $plumberhub_model hello;\n            proxy_pass http://plumberhub_model_hello/;",
        );
        expect(conf).not.toContain("resolver ");
    });

    test("by default each request asks the model to close its connection, unless the client upgrades", () => {
        expect(conf).toContain("proxy_http_version 1.1;");
        expect(conf).toContain('map $http_upgrade $plumberhub_connection {\n        default upgrade;\n        "" close;');
        expect(conf).toContain("proxy_set_header Connection $plumberhub_connection;");
    });

    test("a keep-alive pool when asked for: keepalive in each upstream and an empty Connection", () => {
        const pooled = renderNginxConf(staticConfig({ limits: { upstreamKeepalive: 16 } }));
        expect(pooled).toContain(
            "upstream plumberhub_model_hello {\n        server hello:8000;\n        keepalive 16;\n        keepalive_timeout 60s;\n    }",
        );
        expect(pooled).toContain('map $http_upgrade $plumberhub_connection {\n        default upgrade;\n        "" "";');
    });

    test("port 80 only redirects to HTTPS and answers /healthz", () => {
        const http = serverWith(conf, "80;");
        expect(http).toContain("location / { return 301 https://$host$request_uri; }");
        expect(http).toContain("location = /healthz");
        expect(http).not.toContain("proxy_pass");
    });

    test("a non-443 public port is kept in the redirect", () => {
        expect(renderNginxConf(staticConfig({ httpsPort: 8443, httpPort: 8080 }))).toContain("return 301 https://$host:8443$request_uri;");
        expect(renderNginxConf(staticConfig({ httpsPort: 8443, publicHttpsPort: 443 }))).toContain("return 301 https://$host$request_uri;");
    });

    test("TLS server with the given files, HSTS and basic auth on everything but /healthz", () => {
        const https = serverWith(conf, "443 ssl;");
        expect(https).toContain("ssl_certificate /etc/plumberhub/tls.crt;\n        ssl_certificate_key /etc/plumberhub/tls.key;");
        expect(https).toContain('add_header Strict-Transport-Security "max-age=31536000" always;');
        expect(https).toContain('auth_basic "plumberhub";\n        auth_basic_user_file /etc/plumberhub/htpasswd;');
        expect(https).toContain("location = /healthz {\n            auth_basic off;");
        expect(https.match(/auth_basic off;/g)).toHaveLength(1 + 1 + 13); // healthz, one ACL location, 13 error pages
    });

    test("user names are matched exactly: dots are escaped in the map's regex keys", () => {
        const custom = renderNginxConf(staticConfig({ models: [{ name: "a", upstream: "h:1", users: ["j.doe@example.org"] }] }));
        expect(custom).toContain('"~^j\\.doe@example\\.org$" 1;');
    });

    test("per-model users: a map of allowed names and an auth_request only where a list is given", () => {
        expect(conf).toContain('map $remote_user $plumberhub_acl_bos_rf {\n        default 0;\n        "~^alice$" 1;\n        "~^bob$" 1;\n    }');
        expect(conf).toContain("auth_request /_plumberhub_acl/bos-rf;");
        expect(conf.match(/auth_request /g)).toHaveLength(1);
        expect(conf).toContain("location = /_plumberhub_acl/bos-rf {\n            internal;");
    });

    test("limits and paths: documented defaults", () => {
        expect(conf).toContain("client_max_body_size 10485760;");
        expect(conf).toContain("proxy_connect_timeout 5s;\n    proxy_read_timeout 120s;\n    proxy_send_timeout 60s;");
        expect(conf).toContain("pid /tmp/plumberhub-nginx.pid;");
        expect(conf).toContain("access_log /dev/stdout plumberhub_json buffer=64k flush=1s;");
        expect(conf).toContain("error_log stderr warn;");
        expect(conf).toContain("root /usr/share/plumberhub;");
        expect(conf).not.toContain("temp_path");
        expect(conf).not.toMatch(/^user /m);
    });

    test("limits and paths as given", () => {
        const custom = renderNginxConf(
            staticConfig({
                limits: { maxBodyBytes: 1024, connectTimeoutSeconds: 2, readTimeoutSeconds: 600, sendTimeoutSeconds: 30, upstreamKeepalive: 4 },
                paths: { ...PATHS, pidFile: "/run/gw.pid", tempDir: "/var/cache/gw", accessLog: "/var/log/gw.json", errorLog: "/var/log/gw.err" },
                user: "nginx",
            }),
        );
        expect(custom).toContain("client_max_body_size 1024;");
        expect(custom).toContain("proxy_connect_timeout 2s;\n    proxy_read_timeout 600s;\n    proxy_send_timeout 30s;");
        expect(custom).toContain("keepalive 4;");
        expect(custom).toContain("pid /run/gw.pid;");
        expect(custom).toContain("client_body_temp_path /var/cache/gw/client_body;");
        expect(custom).toContain("access_log /var/log/gw.json plumberhub_json buffer=64k flush=1s;");
        expect(custom).toContain("error_log /var/log/gw.err warn;");
        expect(custom).toMatch(/^user nginx;$/m);
    });

    test("every nginx error has a JSON page, and the upstream gets the request id and prefix but not the credentials", () => {
        for (const code of [400, 401, 403, 404, 413, 502, 503, 504]) {
            expect(conf).toContain(`error_page ${code} = /_plumberhub_error/${code};`);
            expect(conf).toMatch(new RegExp(`location = /_plumberhub_error/${code} \\{[^}]*return ${code} '\\{"error":"[a-z ]+","status":${code}`));
        }
        expect(conf).toContain("proxy_set_header X-Request-ID $plumberhub_request_id;");
        expect(conf).toContain("proxy_set_header X-Forwarded-Prefix /$plumberhub_model;");
        expect(conf).toContain('proxy_set_header Authorization "";');
        expect(conf).toContain("add_header X-Request-ID $plumberhub_request_id always;");
    });

    test("only listed models are routed: there is no catch-all model location", () => {
        expect(conf).not.toContain("location ~");
    });

    test("the same input renders the same bytes", () => {
        expect(renderNginxConf(staticConfig())).toBe(conf);
    });
});

describe("renderNginxConf, dns routing", () => {
    const conf = renderNginxConf(dnsConfig());
    const regexLocation = /location ~ "\^\/(.+)\/" \{/.exec(conf)![1];
    const modelRoute = new RegExp(`^/${regexLocation}/`);

    test("a resolver and the name template, resolved per request, with no upstream blocks", () => {
        expect(conf).toContain("resolver 10.0.0.10 valid=10s ipv6=off;");
        expect(conf).toContain('set $plumberhub_upstream_host "${plumberhub_model}.models.svc.cluster.local";');
        expect(conf).toContain("proxy_pass http://$plumberhub_upstream_host:8000;");
        expect(conf).not.toContain("upstream plumberhub_model");
    });

    test("each request asks the model to close its connection (no pool for resolved names)", () => {
        expect(conf).toContain('map $http_upgrade $plumberhub_connection {\n        default upgrade;\n        "" close;');
        expect(renderNginxConf(dnsConfig({ limits: { upstreamKeepalive: 16 } }))).not.toMatch(/keepalive 16;|"" "";/);
    });

    test("listed models keep their own location (for per-model users); others go by the name pattern", () => {
        expect(conf).toContain(
            "location ^~ /bos-rf/ {\n            set $plumberhub_model bos-rf;\n            auth_request /_plumberhub_acl/bos-rf;",
        );
        expect(conf).toContain("rewrite ^/bos-rf(/.*)$ $1 break;");
        expect(conf).toContain("rewrite ^/[^/]+(/.*)$ $1 break;");
    });

    test.each(["/hello/x", "/bos-rf/", "/m/", `/${"a".repeat(MAX_MODEL_NAME_LENGTH)}/x`, "/model-2/score"])("the model pattern routes %s", (path) => {
        expect(modelRoute.test(path)).toBe(true);
    });

    test.each([
        "/Hello/x",
        "/evil.com/",
        "/hello.evil/x",
        "/hello@evil/x",
        "/-a/",
        "/a-/",
        "/1a/",
        "/../x",
        "/%2e%2e/",
        "/hello%2f/",
        `/${"a".repeat(MAX_MODEL_NAME_LENGTH + 1)}/x`,
        "/_plumberhub_acl/x",
        ...RESERVED_MODEL_NAMES.map((name) => `/${name}/x`),
    ])("the model pattern never routes %s", (path) => {
        expect(modelRoute.test(path)).toBe(false);
    });

    test("a name that does not resolve turns the 502 into a 404 JSON", () => {
        expect(conf).toContain(`if ($upstream_addr = "") { return 404 '{"error":"unknown model"`);
        expect(renderNginxConf(staticConfig())).not.toContain('unknown model"');
    });

    test("a listed model with a port of its own is proxied there; models joining from elsewhere get the routing's port", () => {
        const conf = renderNginxConf(dnsConfig({ models: [{ name: "hello", port: 8123 }, { name: "bos-rf" }] }));
        // A model's location block: from its opening line to the first closing brace at its indentation.
        const location = (name: string) => conf.slice(conf.indexOf(`location ^~ /${name}/ {`)).split(/\n\s*\}\n/)[0];
        expect(location("hello")).toContain("proxy_pass http://$plumberhub_upstream_host:8123;");
        expect(location("bos-rf")).toContain("proxy_pass http://$plumberhub_upstream_host:8000;");
        const byName = conf.slice(conf.indexOf("# dns routing: models not listed above"));
        expect(byName).toContain("proxy_pass http://$plumberhub_upstream_host:8000;");
        expect(byName).not.toContain(":8123");
    });

    test("the model port and cache time are configurable", () => {
        const custom = renderNginxConf(
            dnsConfig({
                routing: {
                    mode: "dns",
                    resolver: ["127.0.0.11", "[fd00::53]:5353"],
                    nameTemplate: "hub_{model}.internal",
                    port: 9000,
                    validSeconds: 30,
                },
            }),
        );
        expect(custom).toContain("resolver 127.0.0.11 [fd00::53]:5353 valid=30s ipv6=off;");
        expect(custom).toContain('set $plumberhub_upstream_host "hub_${plumberhub_model}.internal";');
        expect(custom).toContain("proxy_pass http://$plumberhub_upstream_host:9000;");
    });
});

describe("renderNginxConf, HTTP-only mode", () => {
    const conf = renderNginxConf(staticConfig({ tls: "http-only" }));

    test("is marked at the top and on the server", () => {
        expect(conf.split("\n")[1]).toBe("# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.");
        expect(conf).toContain("    # HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.\n        listen 8080;");
    });

    test("has one plain server, no TLS and no HSTS", () => {
        expect(conf.match(/^ {4}server \{/gm)).toHaveLength(1);
        expect(conf).not.toMatch(/ssl|Strict-Transport-Security|return 301 https/);
        expect(conf).toContain("auth_basic_user_file /etc/plumberhub/htpasswd;");
    });
});

describe("the landing page", () => {
    const files = renderGatewayFiles(
        staticConfig({
            models: [
                {
                    name: "hello",
                    upstream: "h:1",
                    description: 'Says <b>hi</b> & "more"',
                    endpoints: [{ method: "GET", path: "/echo", summary: "echo it" }],
                },
                { name: "bos-rf", upstream: "h:2", endpoints: [{ method: "POST", path: "/score?x=<y>" }] },
            ],
            title: "Team <models>",
        }),
    );
    const html = files["index.html"];

    test("lists every model with links to its docs and OpenAPI spec", () => {
        for (const name of ["hello", "bos-rf"]) {
            expect(html).toContain(`<a href="/${name}/__docs__/">API docs</a><a href="/${name}/openapi.json">OpenAPI spec</a>`);
        }
        expect(html).toContain('<li><code><span class="method">GET</span> /hello/echo</code> <span class="muted">— echo it</span></li>');
    });

    test("escapes every user-provided text", () => {
        expect(html).toContain("<p>Says &lt;b&gt;hi&lt;/b&gt; &amp; &quot;more&quot;</p>");
        expect(html).toContain("/bos-rf/score?x=&lt;y&gt;");
        expect(html).toContain("<title>Team &lt;models&gt;</title>");
        expect(html).not.toContain("<b>");
    });

    test("is self-contained and phone-readable", () => {
        expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
        expect(html).not.toMatch(/https?:\/\/|<script|<link|src=/);
    });

    test("says so when there is no model", () => {
        expect(renderLandingPage([])).toContain("No models are deployed yet.");
    });

    test("escapeHtml covers the five HTML metacharacters", () => {
        expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    });
});

describe("behind an edge (PROXY protocol) with a local healthcheck listener", () => {
    const conf = renderNginxConf(dnsConfig({ httpsPort: 443, httpPort: 80, proxyProtocol: true, healthcheckPort: 8443 }));

    test("every public listener expects the PROXY protocol", () => {
        expect(conf).toContain("listen 443 proxy_protocol ssl;");
        expect(conf).toContain("listen 80 proxy_protocol;");
    });

    test("the client address is taken from the PROXY protocol header", () => {
        expect(conf).toContain("real_ip_header proxy_protocol;");
    });

    test("the healthcheck listener is on loopback, with TLS and without the PROXY protocol", () => {
        expect(conf).toContain("listen 127.0.0.1:8443 ssl;");
        expect(conf).not.toContain("listen 127.0.0.1:8443 proxy_protocol");
    });

    test("the healthcheck listener's requests stay out of the access log", () => {
        expect(conf).toMatch(/map \$server_port \$plumberhub_logged \{\n\s+8443 0;\n\s+default 1;/);
        expect(conf).toMatch(/access_log \S+ plumberhub_json buffer=64k flush=1s if=\$plumberhub_logged;/);
        expect(renderNginxConf(dnsConfig())).not.toContain("plumberhub_logged");
    });

    test("without an edge nothing expects the PROXY protocol", () => {
        expect(renderNginxConf(dnsConfig())).not.toContain("proxy_protocol");
    });

    test("a healthcheck port that is also a serving port is refused", () => {
        expect(() => validateGatewayConfig(dnsConfig({ healthcheckPort: 443 }))).toThrow(
            "`healthcheckPort` must differ from the ports nginx serves on (443, 80), got 443",
        );
    });
});

describe("renderEdgeConf", () => {
    const edge = renderEdgeConf({
        ports: [
            { listen: 443, target: 443 },
            { listen: 80, target: 80 },
        ],
        gatewayHost: "gateway.plumberhub.internal",
        resolver: ["127.0.0.11"],
    });

    test("loads the stream module and resolves the gateway's tasks per connection through the resolver", () => {
        expect(edge).toContain("load_module /usr/lib/nginx/modules/ngx_stream_module.so;");
        expect(edge).toContain("resolver 127.0.0.11 valid=1s ipv6=off;");
        expect(edge).toContain("default gateway.plumberhub.internal;");
        expect(edge).toContain("proxy_pass $plumberhub_gateway:443;");
        expect(edge).toContain("proxy_pass $plumberhub_gateway:80;");
    });

    test("sends the PROXY protocol and tries the next task when a connect fails", () => {
        expect(edge.match(/proxy_protocol on;/g)).toHaveLength(2);
        expect(edge).toContain("proxy_next_upstream on;");
        expect(edge).toContain("proxy_connect_timeout 1s;");
    });

    test("never terminates TLS: no certificate, no http block", () => {
        expect(edge).not.toMatch(/ssl_certificate|http \{/);
    });

    test.each([
        ["no ports", { ports: [] }, "`ports` must be a non-empty list, got []"],
        [
            "a port twice",
            {
                ports: [
                    { listen: 443, target: 443 },
                    { listen: 443, target: 80 },
                ],
            },
            "`ports` listens on 443 twice; each listen port once",
        ],
        ["a host with a space", { gatewayHost: "gate way" }, '`gatewayHost` must be a DNS name, got "gate way"'],
        ["a resolver name", { resolver: ["dns.local"] }, '`resolver` must be a non-empty list of IPv4 addresses (ip or ip:port), got ["dns.local"]'],
    ])("refuses %s", (_, change, message) => {
        const base = { ports: [{ listen: 443, target: 443 }], gatewayHost: "gateway.plumberhub.internal", resolver: ["127.0.0.11"] };
        expect(() => validateEdgeConfig({ ...base, ...change })).toThrow(message);
    });
});
