/**
 * The rules of the plumberhub policy pack as plain functions `(resource) → violation messages`, so they are
 * unit-tested without the policy runtime; `asResourcePolicy` wraps one for `@pulumi/policy` (see index.ts).
 *
 * How the rules recognise plumberhub's parts — the components label their resources this way:
 * - Kubernetes: `metadata.labels["app.kubernetes.io/component"]` is `gateway` on every gateway object
 *   (ConfigMap with `nginx.conf`, Deployment, LoadBalancer Service) and `model` on model objects.
 * - Swarm: the label `org.plumberhub.role` (`ROLE_LABEL`) is `gateway`, `edge`, `model` or `registry` on services,
 *   configs and secrets; the gateway's nginx configuration is the gateway-labelled `docker.ServiceConfig`
 *   whose swarm name contains `nginx.conf` (names are `{prefix}-nginx.conf-{content hash}`).
 *
 * During `pulumi preview` a value that is not known yet (an image digest computed by the build) makes the
 * policy runtime skip the check for that resource instead of failing it.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { isPinnedByDigest } from "../components/config/image";
import { ROLE_LABEL } from "../components/render/swarm";

/** The part of a resource a rule reads: Pulumi type token, Pulumi resource name and input properties. */
export interface PolicyResource {
    type: string;
    name: string;
    props: Record<string, any>;
}

/** A rule: a stable name, what it asks for, and its check. */
export interface PolicyRule {
    name: string;
    description: string;
    validate: (resource: PolicyResource) => string[];
}

/** Kubernetes label that says which plumberhub part an object belongs to (`gateway` or `model`). */
export const KUBERNETES_COMPONENT_LABEL = "app.kubernetes.io/component";
/** Swarm label with the same meaning (`gateway`, `model` or `registry`). */
export const SWARM_ROLE_LABEL = ROLE_LABEL;

export const TYPES = {
    deployment: "kubernetes:apps/v1:Deployment",
    kubernetesService: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    swarmService: "docker:index/service:Service",
    swarmConfig: "docker:index/serviceConfig:ServiceConfig",
} as const;

function kubernetesLabels(props: Record<string, any>): Record<string, string> {
    return props.metadata?.labels ?? {};
}

/** Docker's label list (`[{ label, value }]`) as a record. */
function swarmLabels(props: Record<string, any>): Record<string, string> {
    const list: { label: string; value: string }[] = props.labels ?? [];
    return Object.fromEntries(list.map(({ label, value }) => [label, value]));
}

/** Containers and init containers of a Deployment's pod template, with the field path used in messages. */
function podContainers(props: Record<string, any>): { name: string; container: Record<string, any> }[] {
    const spec = props.spec?.template?.spec ?? {};
    return [
        ...(spec.initContainers ?? []).map((container: any) => ({ name: `init container "${container.name}"`, container })),
        ...(spec.containers ?? []).map((container: any) => ({ name: `container "${container.name}"`, container })),
    ];
}

/**
 * The gateway (with its edge on swarm) and the registry are the platform's own services, pinned by tag to public
 * images and sized by the platform team; the digest and limits rules are about model workloads (and anything else
 * unlabelled).
 */
function isPlatformService(type: string, props: Record<string, any>): boolean {
    const role = type === TYPES.deployment ? kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] : swarmLabels(props)[SWARM_ROLE_LABEL];
    return role === "gateway" || role === "edge" || role === "registry";
}

// ---------------------------------------------------------------------------------------------
// Images by digest

/** Every model Deployment container and swarm service runs an image pinned by digest (`…@sha256:<64 hex>`). */
export function imagesByDigest({ type, name, props }: PolicyResource): string[] {
    if (isPlatformService(type, props)) return [];
    const problem = (what: string, image: unknown) =>
        `${what} uses image ${JSON.stringify(image ?? null)}, which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>" (ModelImage's \`repoDigest\`), so every replica and every rollback runs the same bytes`;
    if (type === TYPES.deployment) {
        return podContainers(props)
            .filter(({ container }) => !isPinnedByDigest(container.image))
            .map(({ name: what, container }) => problem(`${what} of Deployment "${name}"`, container.image));
    }
    if (type === TYPES.swarmService) {
        const image = props.taskSpec?.containerSpec?.image;
        return isPinnedByDigest(image) ? [] : [problem(`swarm service "${name}"`, image)];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// CPU and memory limits

/** Every model Deployment container sets `resources.limits.cpu` and `.memory`; every model swarm service sets NanoCPUs and memory limits. */
export function resourceLimitsSet({ type, name, props }: PolicyResource): string[] {
    if (isPlatformService(type, props)) return [];
    if (type === TYPES.deployment) {
        return podContainers(props).flatMap(({ name: what, container }) => {
            const limits = container.resources?.limits ?? {};
            const missing = ["cpu", "memory"].filter((key) => limits[key] === undefined || limits[key] === null || limits[key] === "");
            return missing.length === 0
                ? []
                : [
                      `${what} of Deployment "${name}" sets no ${missing.map((key) => `\`resources.limits.${key}\``).join(" and ")}: one busy R process must not starve the node`,
                  ];
        });
    }
    if (type === TYPES.swarmService) {
        const limits = props.taskSpec?.resources?.limits ?? {};
        const missing = ["nanoCpus", "memoryBytes"].filter((key) => !(typeof limits[key] === "number" && limits[key] > 0));
        return missing.length === 0
            ? []
            : [
                  `swarm service "${name}" sets no ${missing.map((key) => `\`taskSpec.resources.limits.${key}\``).join(" and ")}: one busy R process must not starve the node`,
              ];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// Gateway TLS

/** One nginx directive: name, arguments, and its block when it has one. */
interface NginxDirective {
    name: string;
    args: string[];
    block?: NginxDirective[];
}

/** Words, quoted strings and `{ } ;` of an nginx configuration; `#` comments dropped. */
function nginxTokens(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) i++;
        else if (c === "#") while (i < text.length && text[i] !== "\n") i++;
        else if (c === "{" || c === "}" || c === ";") tokens.push(text[i++]);
        else if (c === '"' || c === "'") {
            let j = i + 1;
            while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
            tokens.push(text.slice(i + 1, j));
            i = j + 1;
        } else {
            let j = i;
            while (j < text.length && !/[\s{};]/.test(text[j])) j++;
            tokens.push(text.slice(i, j));
            i = j;
        }
    }
    return tokens;
}

/** Parses an nginx configuration into directives; throws on unbalanced braces. */
export function parseNginxConfig(text: string): NginxDirective[] {
    const tokens = nginxTokens(text);
    let at = 0;
    const parseBlock = (nested: boolean): NginxDirective[] => {
        const directives: NginxDirective[] = [];
        let words: string[] = [];
        while (at < tokens.length) {
            const token = tokens[at++];
            if (token === ";") {
                if (words.length > 0) directives.push({ name: words[0], args: words.slice(1) });
                words = [];
            } else if (token === "{") {
                directives.push({ name: words[0] ?? "", args: words.slice(1), block: parseBlock(true) });
                words = [];
            } else if (token === "}") {
                if (!nested) throw new Error("unexpected `}`");
                return directives;
            } else words.push(token);
        }
        if (nested) throw new Error("missing `}`");
        return directives;
    };
    return parseBlock(false);
}

/** All directives named `name` at any depth. */
function findAll(directives: NginxDirective[], name: string): NginxDirective[] {
    return directives.flatMap((d) => [...(d.name === name ? [d] : []), ...findAll(d.block ?? [], name)]);
}

/**
 * What is wrong with a gateway nginx configuration, TLS-wise: it must have a server listening with `ssl`
 * (with `ssl_certificate` and `ssl_certificate_key`), and a plain-HTTP server may only redirect to HTTPS
 * (it may not proxy to models or check passwords, which would cross the network in clear text).
 */
export function nginxTlsProblems(text: string): string[] {
    let config: NginxDirective[];
    try {
        config = parseNginxConfig(text);
    } catch (error) {
        return [`cannot be parsed (${(error as Error).message})`];
    }
    const problems: string[] = [];
    const servers = findAll(config, "server").filter((d) => d.block !== undefined);
    const inherited = (name: string) => config.some((d) => d.name === "http" && (d.block ?? []).some((inner) => inner.name === name));
    const tlsServers = servers.filter((s) => (s.block ?? []).some((d) => d.name === "listen" && d.args.includes("ssl")));
    if (tlsServers.length === 0) problems.push("has no server with `listen … ssl`: the gateway must serve HTTPS");
    for (const server of tlsServers) {
        const missing = ["ssl_certificate", "ssl_certificate_key"].filter(
            (name) => !(server.block ?? []).some((d) => d.name === name) && !inherited(name),
        );
        const listen = (server.block ?? []).find((d) => d.name === "listen")!;
        if (missing.length > 0) problems.push(`server \`listen ${listen.args.join(" ")}\` sets no ${missing.map((m) => `\`${m}\``).join(" and ")}`);
    }
    for (const server of servers.filter((s) => !tlsServers.includes(s))) {
        const block = server.block ?? [];
        const listens = block.filter((d) => d.name === "listen").map((d) => `\`listen ${d.args.join(" ")}\``);
        const where = `plain-HTTP server ${listens.length > 0 ? listens.join(", ") : "`listen 80`"}`;
        const passwords = findAll(block, "auth_basic").some((d) => d.args[0] !== "off");
        for (const bad of ["proxy_pass", "fastcgi_pass", "uwsgi_pass", "grpc_pass"].filter((name) => findAll(block, name).length > 0)) {
            problems.push(`${where} forwards requests (\`${bad}\`): plain HTTP may only redirect to HTTPS`);
        }
        if (passwords) problems.push(`${where} asks for passwords (\`auth_basic\`): they would cross the network in clear text`);
        const redirects = findAll(block, "return").some((d) => /^30[1278]$/.test(d.args[0] ?? "") && (d.args[1] ?? "").startsWith("https://"));
        if (!redirects) problems.push(`${where} does not redirect to HTTPS (\`return 301 https://…\`)`);
    }
    return problems;
}

/** The gateway's nginx configuration (Kubernetes ConfigMap key `nginx.conf`, or the swarm config) listens with TLS. */
export function gatewayTlsOn({ type, name, props }: PolicyResource): string[] {
    let text: unknown;
    let what: string;
    if (type === TYPES.configMap && kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] === "gateway" && props.data?.["nginx.conf"] !== undefined) {
        text = props.data["nginx.conf"];
        what = `gateway ConfigMap "${name}" (\`nginx.conf\`)`;
    } else if (
        type === TYPES.swarmConfig &&
        swarmLabels(props)[SWARM_ROLE_LABEL] === "gateway" &&
        String(props.name ?? name).includes("nginx.conf")
    ) {
        // docker.ServiceConfig `data` is base64.
        text = typeof props.data === "string" ? Buffer.from(props.data, "base64").toString("utf8") : props.data;
        what = `gateway swarm config "${name}"`;
    } else {
        return [];
    }
    if (typeof text !== "string") return [`${what} has no nginx configuration text`];
    return nginxTlsProblems(text).map((problem) => `${what} ${problem}`);
}

// ---------------------------------------------------------------------------------------------
// No model exposed without the gateway's authentication

/**
 * Only the gateway (TLS + basic auth) faces the outside: a Kubernetes `LoadBalancer` Service that is not
 * labelled as the gateway, or a swarm model service that publishes ports, would expose plumber without auth.
 */
export function noUnauthenticatedExposure({ type, name, props }: PolicyResource): string[] {
    if (type === TYPES.kubernetesService && props.spec?.type === "LoadBalancer") {
        if (kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] === "gateway") return [];
        return [
            `Service "${name}" is of type LoadBalancer but is not the gateway (label \`${KUBERNETES_COMPONENT_LABEL}: gateway\`): it would expose its pods without the gateway's TLS and authentication; use type ClusterIP and reach the model through the gateway`,
        ];
    }
    if (type === TYPES.swarmService && swarmLabels(props)[SWARM_ROLE_LABEL] === "model") {
        const published = (props.endpointSpec?.ports ?? []).filter((port: any) => port.publishedPort !== undefined && port.publishedPort !== null);
        if (published.length === 0) return [];
        const ports = published.map((port: any) => port.publishedPort).join(", ");
        return [
            `swarm model service "${name}" publishes port(s) ${ports}: it would be reachable without the gateway's TLS and authentication; publish nothing and reach the model through the gateway`,
        ];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// The pack

export const RULES: PolicyRule[] = [
    {
        name: "plumberhub-images-by-digest",
        description: "Deployment containers and swarm services run images pinned by digest (@sha256:…).",
        validate: imagesByDigest,
    },
    {
        name: "plumberhub-resource-limits",
        description: "Every container (Kubernetes) and every swarm service sets CPU and memory limits.",
        validate: resourceLimitsSet,
    },
    {
        name: "plumberhub-gateway-tls",
        description: "The gateway's nginx configuration serves HTTPS; plain HTTP only redirects.",
        validate: gatewayTlsOn,
    },
    {
        name: "plumberhub-no-unauthenticated-exposure",
        description: "Only the gateway is exposed (LoadBalancer Service or published swarm port); models are reached through it.",
        validate: noUnauthenticatedExposure,
    },
];

/** A rule as a mandatory `@pulumi/policy` resource policy: each message becomes one violation. */
export function asResourcePolicy(rule: PolicyRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            for (const message of rule.validate({ type: args.type, name: args.name, props: args.props })) reportViolation(message);
        },
    };
}
