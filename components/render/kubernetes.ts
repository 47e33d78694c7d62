/**
 * Kubernetes objects for the AKS target, as plain JSON (no Pulumi, no I/O). One source of truth: the Pulumi
 * components (`components/aks/`) create their `kubernetes.*` resources from these objects, and the YAML export
 * (`renderKubernetesManifests` + `toKubernetesYaml`) writes the very same objects for review.
 */
import { createHash } from "crypto";
import { DEFAULT_NAMESPACE } from "../config/aks";
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";
import { stringify } from "yaml";
import { Model } from "../config/model";
import { GatewayConfig, GatewayLimits, renderGatewayFiles } from "./gateway";
import { MODEL_HEALTH_PATH, MODEL_UID, modelContainerEnv } from "./modelContainer";
import { DEFAULT_GATEWAY_IMAGE } from "./gateway";

/** A Kubernetes object as plain JSON. */
export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    [field: string]: any;
}

/** Port every model's ClusterIP Service listens on, whatever port plumber uses inside: the gateway's DNS
 *  routing template (`{model}.{namespace}.svc.cluster.local:8000`) needs one port for all models. */
export const MODEL_SERVICE_PORT = 8000;

/** Default namespace of an environment. */

/** Annotation whose change rolls the pods (the checksum of the configuration they read). */
export const CONFIG_CHECKSUM_ANNOTATION = "plumberhub.io/config-checksum";

/** Pulumi's annotation that skips waiting for a resource to become ready (used for the LoadBalancer IP). */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/** Azure cloud-provider annotations of a LoadBalancer Service. */
export const AZURE_DNS_LABEL_ANNOTATION = "service.beta.kubernetes.io/azure-dns-label-name";
/** Static public IP (replaces the deprecated `spec.loadBalancerIP` on AKS). */
export const AZURE_STATIC_IP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-ipv4";
/** Resource group of a static IP that is not in the cluster's node resource group. */
export const AZURE_IP_RESOURCE_GROUP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-resource-group";

/** Probe timing of the model containers. R loads packages and models slowly and serves one request at a time. */
export const MODEL_PROBES = Object.freeze({
    /** Up to 60 × 5 s = 5 minutes for the model to load before the container is restarted. */
    startup: { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
    /** A busy (single-threaded) pod leaves the Service after 3 missed checks and returns when it answers again. */
    readiness: { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    /** Restart only after 5 × 30 s of silence: one long prediction must not get a healthy pod killed. */
    liveness: { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 5 },
});

/** Size cap of the writable `/tmp` of a model container (R writes its session temp files there). */
export const MODEL_TMP_SIZE = "1Gi";

const PART_OF = "plumberhub";

/** Labels that select one model's pods (stable: a selector cannot change after creation). */
export function modelSelector(modelName: string): Record<string, string> {
    return { "app.kubernetes.io/name": modelName, "app.kubernetes.io/part-of": PART_OF };
}

function modelLabels(modelName: string): Record<string, string> {
    return { ...modelSelector(modelName), "app.kubernetes.io/component": "model", "app.kubernetes.io/managed-by": "plumberhub" };
}

/** Hex SHA-256 of a value's canonical JSON (keys sorted), for checksum annotations. */
export function configChecksum(value: unknown): string {
    return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** Spread replicas over nodes where possible (soft, so a one-node cluster still schedules them). */
function spreadOverNodes(selector: Record<string, string>) {
    return [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }];
}

/** A PDB that keeps all but one pod up during node drains. */
function disruptionBudget(name: string, namespace: string, labels: Record<string, string>, selector: Record<string, string>): KubernetesObject {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    };
}

const DROP_ALL = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

// ---------------------------------------------------------------------------------------------
// Namespace

/** The environment's namespace; pods in it must meet the `restricted` Pod Security Standard. */
export function renderNamespace(name: string): KubernetesObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name,
            labels: {
                "app.kubernetes.io/part-of": PART_OF,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Models

export interface ModelObjectsOptions {
    /** Namespace of the model's objects. */
    namespace: string;
    /** Image reference; by digest (`registry/repo@sha256:…`) so a new build always rolls the pods. */
    image: string;
    /** Also expose the model directly (no gateway, no auth) on its own LoadBalancer on port 8000. Default false. */
    loadBalancer?: boolean;
}

/** A model's objects: always a Deployment and a ClusterIP Service; an HPA, a PDB and a public Service when asked for. */
export interface ModelObjects {
    deployment: KubernetesObject;
    service: KubernetesObject;
    autoscaler?: KubernetesObject;
    disruptionBudget?: KubernetesObject;
    loadBalancer?: KubernetesObject;
}

/**
 * The Kubernetes objects of one validated model. The ClusterIP Service is named exactly like the model, because
 * the gateway routes `/{model}/…` to `{model}.{namespace}.svc.cluster.local` by convention.
 */
export function renderModelObjects(model: Model, options: ModelObjectsOptions): ModelObjects {
    const { namespace } = options;
    const selector = modelSelector(model.name);
    const labels = modelLabels(model.name);
    const minReplicas = model.autoscaling ? model.autoscaling.minReplicas : model.replicas;
    const env = Object.entries(modelContainerEnv(model)).map(([name, value]) => ({ name, value }));
    const httpGet = { path: MODEL_HEALTH_PATH, port: "http" };
    const deployment: KubernetesObject = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: model.name, namespace, labels },
        spec: {
            // With an HPA the autoscaler owns `replicas`: setting it here would reset the scale on every update.
            ...(model.autoscaling ? {} : { replicas: model.replicas }),
            revisionHistoryLimit: 5,
            selector: { matchLabels: selector },
            // Never below the current capacity during a rollout: a new pod must pass readiness first.
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: {
                metadata: {
                    labels,
                    annotations: {
                        [CONFIG_CHECKSUM_ANNOTATION]: configChecksum({ env: model.env, port: model.port, cpu: model.cpu, memory: model.memory }),
                    },
                },
                spec: {
                    automountServiceAccountToken: false, // the model never talks to the API server
                    enableServiceLinks: false, // no `{SERVICE}_PORT` variables leaking into the R session
                    // Kubernetes can only enforce `runAsNonRoot` on a numeric user: the image's (MODEL_UID).
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: MODEL_UID,
                        runAsGroup: MODEL_UID,
                        fsGroup: MODEL_UID,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    topologySpreadConstraints: spreadOverNodes(selector),
                    containers: [
                        {
                            name: "model",
                            image: options.image,
                            ports: [{ name: "http", containerPort: model.port, protocol: "TCP" }],
                            env,
                            resources: {
                                requests: { cpu: model.cpu.request, memory: model.memory.request },
                                limits: { cpu: model.cpu.limit, memory: model.memory.limit },
                            },
                            startupProbe: { httpGet, ...MODEL_PROBES.startup },
                            readinessProbe: { httpGet, ...MODEL_PROBES.readiness },
                            livenessProbe: { httpGet, ...MODEL_PROBES.liveness },
                            securityContext: DROP_ALL,
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                        },
                    ],
                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: MODEL_TMP_SIZE } }],
                },
            },
        },
    };
    const servicePorts = [{ name: "http", port: MODEL_SERVICE_PORT, targetPort: "http", protocol: "TCP" }];
    const objects: ModelObjects = {
        deployment,
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: model.name, namespace, labels },
            spec: { type: "ClusterIP", selector, ports: servicePorts },
        },
    };
    if (model.autoscaling) {
        objects.autoscaler = {
            apiVersion: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata: { name: model.name, namespace, labels },
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: model.name },
                minReplicas: model.autoscaling.minReplicas,
                maxReplicas: model.autoscaling.maxReplicas,
                metrics: [
                    {
                        type: "Resource",
                        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: model.autoscaling.targetCpuUtilization } },
                    },
                ],
            },
        };
    }
    if (minReplicas > 1) objects.disruptionBudget = disruptionBudget(model.name, namespace, labels, selector);
    if (options.loadBalancer) {
        objects.loadBalancer = {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: `${model.name}-public`, namespace, labels },
            spec: { type: "LoadBalancer", selector, ports: servicePorts },
        };
    }
    return objects;
}

/** The objects of `renderModelObjects` as a list, in apply order. */
export function modelObjectList(objects: ModelObjects): KubernetesObject[] {
    return [objects.deployment, objects.service, objects.autoscaler, objects.disruptionBudget, objects.loadBalancer].filter(
        (o): o is KubernetesObject => o !== undefined,
    );
}

// ---------------------------------------------------------------------------------------------
// Gateway

/** Service network of a cluster `AksCluster` creates: fixed so the gateway's resolver has a known address. */
export const AKS_SERVICE_CIDR = "10.0.0.0/16";
/** kube-dns's address in a cluster `AksCluster` creates (inside `AKS_SERVICE_CIDR`): the gateway's default resolver. */
export const AKS_DNS_SERVICE_IP = "10.0.0.10";

/** UID of the `nginx` user in the official nginx images. */
export const GATEWAY_RUN_AS_USER = 101;
/** Ports nginx listens on inside the pod: unprivileged, so it runs without root or `NET_BIND_SERVICE`. */
export const GATEWAY_CONTAINER_PORTS = Object.freeze({ http: 8080, https: 8443 });
/** Where the gateway pod mounts its files (the rendered nginx.conf points here). */
export const KUBERNETES_GATEWAY_PATHS = Object.freeze({
    config: "/etc/nginx/nginx.conf",
    /** Landing page folder (ConfigMap). */
    site: "/etc/nginx/plumberhub/site",
    /** `tls.crt` and `tls.key` (Secret of type kubernetes.io/tls). */
    tls: "/etc/nginx/plumberhub/tls",
    /** `htpasswd` (Secret). */
    auth: "/etc/nginx/plumberhub/auth",
});

/** What the AKS gateway serves, for the gateway renderer. */
export interface KubernetesGatewaySettings {
    /** Namespace of the models (the DNS routing template is `{model}.{namespace}.svc.cluster.local`). */
    namespace: string;
    /** Models listed on the landing page and with per-model user lists; any model in the namespace is routed. */
    models: Model[];
    /** Cluster DNS (kube-dns) address for nginx's resolver. Default `AKS_DNS_SERVICE_IP`. */
    resolver?: string;
    /** Request limits and timeouts (the gateway renderer's defaults otherwise). */
    limits?: GatewayLimits;
    /** Landing page title. Default the renderer's. */
    title?: string;
}

/**
 * The gateway renderer's config for AKS: DNS routing to `{model}.{namespace}.svc.cluster.local:8000` through
 * kube-dns, TLS and htpasswd from the mounted Secrets, unprivileged listen ports behind the LoadBalancer's 80/443.
 */
export function kubernetesGatewayConfig(settings: KubernetesGatewaySettings): GatewayConfig {
    const paths = KUBERNETES_GATEWAY_PATHS;
    return {
        models: settings.models.map((m) => ({ name: m.name, ...(m.users ? { users: m.users } : {}) })),
        routing: {
            mode: "dns",
            resolver: [settings.resolver ?? AKS_DNS_SERVICE_IP],
            nameTemplate: `{model}.${settings.namespace}.svc.cluster.local`,
            port: MODEL_SERVICE_PORT,
        },
        tls: { certificatePath: `${paths.tls}/tls.crt`, keyPath: `${paths.tls}/tls.key` },
        // pid and temp files on the pod's writable /tmp (the root filesystem is read-only).
        paths: { htpasswd: `${paths.auth}/htpasswd`, landingDir: paths.site, pidFile: "/tmp/nginx.pid", tempDir: "/tmp" },
        limits: settings.limits,
        httpsPort: GATEWAY_CONTAINER_PORTS.https,
        httpPort: GATEWAY_CONTAINER_PORTS.http,
        publicHttpsPort: 443,
        ...(settings.title !== undefined ? { title: settings.title } : {}),
    };
}

/** nginx.conf and the landing page of the AKS gateway (`siteFiles` of `renderGatewayObjects`). */
export function renderKubernetesGatewayFiles(settings: KubernetesGatewaySettings): { nginxConf: string; siteFiles: Record<string, string> } {
    const files = renderGatewayFiles(kubernetesGatewayConfig(settings));
    return { nginxConf: files["nginx.conf"], siteFiles: { "index.html": files["index.html"] } };
}

export interface GatewayObjectsOptions {
    /** Namespace of the gateway's objects. */
    namespace: string;
    /** Base name of the gateway's objects. Default `gateway`. */
    name?: string;
    /** Rendered nginx.conf (`renderKubernetesGatewayFiles`). */
    nginxConf: string;
    /** Static files served by the gateway (the landing page), file name → contents. */
    siteFiles: Record<string, string>;
    /** PEM certificate chain of the gateway. */
    tlsCert: string;
    /** PEM private key of the gateway (secret). */
    tlsKey: string;
    /** htpasswd file contents (secret). */
    htpasswd: string;
    /** nginx image. Default `DEFAULT_GATEWAY_IMAGE`. */
    image?: string;
    /** Gateway pods. Default 2. */
    replicas?: number;
    /** Azure DNS label: the gateway answers on `{label}.{region}.cloudapp.azure.com`. */
    dnsLabel?: string;
    /** Existing static public IP for the LoadBalancer. */
    staticIp?: string;
    /** Resource group of `staticIp` when it is not the cluster's node resource group. */
    staticIpResourceGroup?: string;
    /** Tell Pulumi not to wait for the LoadBalancer's address. Default false. */
    skipLoadBalancerAwait?: boolean;
}

export interface GatewayObjects {
    config: KubernetesObject;
    tlsSecret: KubernetesObject;
    htpasswdSecret: KubernetesObject;
    deployment: KubernetesObject;
    service: KubernetesObject;
    disruptionBudget: KubernetesObject;
}

/** The gateway's objects: ConfigMap, two Secrets, nginx Deployment, LoadBalancer Service 80/443, PDB. */
export function renderGatewayObjects(options: GatewayObjectsOptions): GatewayObjects {
    const name = options.name ?? "gateway";
    const { namespace } = options;
    const replicas = options.replicas ?? GATEWAY_SETTINGS_DEFAULTS.replicas.aks;
    const selector = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
    const labels = { ...selector, "app.kubernetes.io/component": "gateway", "app.kubernetes.io/managed-by": "plumberhub" };
    const names = { config: `${name}-config`, tls: `${name}-tls`, htpasswd: `${name}-htpasswd` };
    const configData: Record<string, string> = { "nginx.conf": options.nginxConf };
    for (const [file, contents] of Object.entries(options.siteFiles)) configData[`site-${file}`] = contents;
    // Rolls the pods when any file they read changes (ConfigMap and Secret updates do not restart pods).
    const checksum = configChecksum({ config: configData, cert: options.tlsCert, key: options.tlsKey, htpasswd: options.htpasswd });
    const serviceAnnotations: Record<string, string> = {};
    if (options.dnsLabel) serviceAnnotations[AZURE_DNS_LABEL_ANNOTATION] = options.dnsLabel;
    if (options.staticIp) serviceAnnotations[AZURE_STATIC_IP_ANNOTATION] = options.staticIp;
    if (options.staticIpResourceGroup) serviceAnnotations[AZURE_IP_RESOURCE_GROUP_ANNOTATION] = options.staticIpResourceGroup;
    if (options.skipLoadBalancerAwait) serviceAnnotations[SKIP_AWAIT_ANNOTATION] = "true";
    const probe = { httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" } };
    return {
        config: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: names.config, namespace, labels }, data: configData },
        tlsSecret: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: names.tls, namespace, labels },
            type: "kubernetes.io/tls",
            stringData: { "tls.crt": options.tlsCert, "tls.key": options.tlsKey },
        },
        htpasswdSecret: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: names.htpasswd, namespace, labels },
            type: "Opaque",
            stringData: { htpasswd: options.htpasswd },
        },
        deployment: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace, labels },
            spec: {
                replicas,
                revisionHistoryLimit: 5,
                selector: { matchLabels: selector },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels, annotations: { [CONFIG_CHECKSUM_ANNOTATION]: checksum } },
                    spec: {
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: GATEWAY_RUN_AS_USER,
                            runAsGroup: GATEWAY_RUN_AS_USER,
                            fsGroup: GATEWAY_RUN_AS_USER, // the Secret files are mode 0440: readable through the group
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        topologySpreadConstraints: spreadOverNodes(selector),
                        containers: [
                            {
                                name: "nginx",
                                image: options.image ?? DEFAULT_GATEWAY_IMAGE,
                                // nginx itself, not the image's entrypoint scripts (they try to edit files on the read-only root).
                                command: ["nginx", "-g", "daemon off;"],
                                ports: [
                                    { name: "http", containerPort: GATEWAY_CONTAINER_PORTS.http, protocol: "TCP" },
                                    { name: "https", containerPort: GATEWAY_CONTAINER_PORTS.https, protocol: "TCP" },
                                ],
                                resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
                                readinessProbe: { ...probe, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
                                livenessProbe: { ...probe, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
                                securityContext: DROP_ALL,
                                volumeMounts: [
                                    { name: "config", mountPath: KUBERNETES_GATEWAY_PATHS.config, subPath: "nginx.conf", readOnly: true },
                                    { name: "site", mountPath: KUBERNETES_GATEWAY_PATHS.site, readOnly: true },
                                    { name: "tls", mountPath: KUBERNETES_GATEWAY_PATHS.tls, readOnly: true },
                                    { name: "htpasswd", mountPath: KUBERNETES_GATEWAY_PATHS.auth, readOnly: true },
                                    { name: "tmp", mountPath: "/tmp" },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "config", configMap: { name: names.config, items: [{ key: "nginx.conf", path: "nginx.conf" }] } },
                            {
                                name: "site",
                                configMap: {
                                    name: names.config,
                                    items: Object.keys(options.siteFiles)
                                        .sort()
                                        .map((file) => ({ key: `site-${file}`, path: file })),
                                },
                            },
                            { name: "tls", secret: { secretName: names.tls, defaultMode: 0o440 } },
                            { name: "htpasswd", secret: { secretName: names.htpasswd, defaultMode: 0o440 } },
                            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                        ],
                    },
                },
            },
        },
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace, labels, ...(Object.keys(serviceAnnotations).length > 0 ? { annotations: serviceAnnotations } : {}) },
            spec: {
                type: "LoadBalancer",
                // Keeps the client's address (access log, rate limits); the LB only sends to nodes with a gateway pod.
                externalTrafficPolicy: "Local",
                selector,
                ports: [
                    { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
                    { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
                ],
            },
        },
        disruptionBudget: disruptionBudget(name, namespace, labels, selector),
    };
}

/** The objects of `renderGatewayObjects` as a list, in apply order. */
export function gatewayObjectList(objects: GatewayObjects): KubernetesObject[] {
    return [objects.config, objects.tlsSecret, objects.htpasswdSecret, objects.deployment, objects.service, objects.disruptionBudget];
}

// ---------------------------------------------------------------------------------------------
// Whole environment and YAML export

export interface KubernetesManifestsInput {
    /** Namespace of the environment. Default `DEFAULT_NAMESPACE`. */
    namespace?: string;
    /** Create the namespace object too. Default true. */
    createNamespace?: boolean;
    /** Validated models. */
    models: Model[];
    /** Image reference of each model, by model name (by digest for deployments). */
    images: Record<string, string>;
    /** Models that also get their own LoadBalancer Service. Default none. */
    loadBalancedModels?: string[];
    /** The gateway (nginx.conf and landing page are rendered from the models). Omit for models only. */
    gateway?: KubernetesGatewayManifestInput;
}

/** The gateway's part of `renderKubernetesManifests`: its objects' options and what it serves. */
export type KubernetesGatewayManifestInput = Omit<GatewayObjectsOptions, "namespace" | "nginxConf" | "siteFiles"> &
    Omit<KubernetesGatewaySettings, "namespace" | "models">;

/** Every Kubernetes object of an environment: namespace, then each model's objects, then the gateway's. */
export function renderKubernetesManifests(input: KubernetesManifestsInput): KubernetesObject[] {
    const namespace = input.namespace ?? DEFAULT_NAMESPACE;
    const objects: KubernetesObject[] = input.createNamespace === false ? [] : [renderNamespace(namespace)];
    for (const model of input.models) {
        const image = input.images[model.name];
        if (!image) throw new Error(`\`images\` has no image for model \`${model.name}\`; give one per model (by digest)`);
        const loadBalancer = input.loadBalancedModels?.includes(model.name) ?? false;
        objects.push(...modelObjectList(renderModelObjects(model, { namespace, image, loadBalancer })));
    }
    if (input.gateway) {
        const { resolver, limits, title, ...gateway } = input.gateway;
        const files = renderKubernetesGatewayFiles({ namespace, models: input.models, resolver, limits, title });
        objects.push(...gatewayObjectList(renderGatewayObjects({ ...gateway, ...files, namespace })));
    }
    return objects;
}

/** Text that replaces every Secret value in a review export. */
export const REDACTED = "<redacted: set by pulumi up>";

/** Copies of the objects with every Secret value replaced by `REDACTED` (so an export can be committed or shared). */
export function redactSecrets(objects: KubernetesObject[]): KubernetesObject[] {
    return objects.map((o) => {
        if (o.kind !== "Secret") return o;
        const redacted: KubernetesObject = { ...o };
        for (const field of ["data", "stringData"]) {
            if (o[field]) redacted[field] = Object.fromEntries(Object.keys(o[field]).map((k) => [k, REDACTED]));
        }
        return redacted;
    });
}

/**
 * Multi-document YAML of the objects (`---` between them), the way `kubectl apply -f` reads it. Secret values are
 * redacted unless `includeSecrets` is true.
 */
export function toKubernetesYaml(objects: KubernetesObject[], options: { includeSecrets?: boolean } = {}): string {
    const shown = options.includeSecrets ? objects : redactSecrets(objects);
    return shown.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** File name of an object in a review export folder, e.g. `020-deployment-hello.yaml`. */
export function manifestFileName(object: KubernetesObject, index: number): string {
    return `${String(index).padStart(3, "0")}-${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;
}
