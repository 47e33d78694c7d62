/**
 * The gateway on Kubernetes: nginx.conf for kube-dns routing, and its ConfigMap, Secrets, Deployment, PDB, Service and
 * NetworkPolicies, with the namespace's default-deny policy (one gateway per hub namespace); with ACME (HTTP-01) the
 * renewal script as the container's command and a shared volume for its state instead of the TLS Secret.
 */
import { isDnsName, show } from "../../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS } from "../../config/gateway";
import { Model } from "../../config/model";
import { isQuantity, parseQuantity } from "../../config/quantities";
import { checkAcmeDirectoryOnHttpsPort, checkCaBundle } from "../../config/tls";
import {
    ACME_FILE_NAMES,
    ACME_PATHS,
    ACME_TLS_FILES,
    validateGatewayCertificateSource,
    DEFAULT_GATEWAY_IMAGE,
    GATEWAY_DEFAULTS,
    GatewayAcme,
    GatewayConfig,
    GatewayLimits,
    gatewayReadyCommand,
    landingFiles,
    renderGatewayAcmeScript,
    renderGatewayFiles,
    validateAcmeRenewal,
} from "../gateway";
import {
    AZURE_DNS_LABEL_ANNOTATION,
    AZURE_IP_RESOURCE_GROUP_ANNOTATION,
    AZURE_PROBE_FAILURES_ANNOTATION,
    AZURE_PROBE_INTERVAL_ANNOTATION,
    AZURE_STATIC_IP_ANNOTATION,
    clusterDnsEgressRule,
    configChecksum,
    CONFIG_CHECKSUM_ANNOTATION,
    disruptionBudget,
    DROP_ALL,
    GATEWAY_POD_LABELS,
    internetEgressRule,
    KubernetesObject,
    MODEL_POD_LABELS,
    networkPolicy,
    PART_OF,
    renderDefaultDenyPolicy,
    SKIP_AWAIT_ANNOTATION,
    TERMINATION_MARGIN_SECONDS,
    topologySpread,
} from "./objects";
import { modelRouting } from "../../config/routing";

/** Service network of a cluster `AksCluster` creates: fixed so the gateway's resolver has a known address. */
export const AKS_SERVICE_CIDR = "10.0.0.0/16";
/** kube-dns's address in a cluster `AksCluster` creates (inside `AKS_SERVICE_CIDR`): the gateway's default resolver. */
export const AKS_DNS_SERVICE_IP = "10.0.0.10";

/**
 * How the Azure load balancer probes the gateway's nodes (set on the Service, so the drain below can rely on it):
 * every 5 s, out after 2 failures. With externalTrafficPolicy Local a node fails the probe as soon as its gateway pod
 * is terminating, and still gets new connections until the probe has failed twice.
 */
export const GATEWAY_LB_PROBE = Object.freeze({ intervalSeconds: 5, failures: 2 });
/** Seconds the gateway's drain waits beyond the load balancer's probe taking the node out (`GATEWAY_DRAIN_SECONDS`). */
export const GATEWAY_DRAIN_SPARE_SECONDS = 5;
/**
 * Seconds a terminating gateway pod keeps serving before nginx stops taking connections: the load balancer's probe
 * takes the node out (`GATEWAY_LB_PROBE`, 10 s) and the endpoints drop the pod meanwhile, with
 * `GATEWAY_DRAIN_SPARE_SECONDS` to spare.
 */
export const GATEWAY_DRAIN_SECONDS = GATEWAY_LB_PROBE.intervalSeconds * GATEWAY_LB_PROBE.failures + GATEWAY_DRAIN_SPARE_SECONDS;
/**
 * nginx's pid file in the gateway pod (`kubernetesGatewayConfig`), on its writable /tmp: the renderer's default, which
 * the ACME renewal script (`renderAcmeRenewalScript`) also waits for before it answers challenges.
 */
const GATEWAY_PID_FILE = GATEWAY_DEFAULTS.pidFile;
/**
 * The gateway's preStop: keep serving while it leaves the endpoints, then stop gracefully and wait until nginx has.
 * The same with ACME: `nginx -s quit` signals nginx's master through the pid file, and the renewal script (the
 * container's main process, nginx's parent) exits once nginx has.
 */
const GATEWAY_DRAIN_COMMAND =
    `sleep ${GATEWAY_DRAIN_SECONDS}; nginx -s quit; ` +
    `while [ -e ${GATEWAY_PID_FILE} ] && kill -0 "$(cat ${GATEWAY_PID_FILE})" 2>/dev/null; do sleep 1; done`;
/**
 * Deadline of a terminating gateway pod before the kubelet kills it: the drain, then the longest request (the read
 * timeout, seconds), then `TERMINATION_MARGIN_SECONDS`.
 */
export function gatewayTerminationGraceSeconds(readTimeoutSeconds: number): number {
    return GATEWAY_DRAIN_SECONDS + readTimeoutSeconds + TERMINATION_MARGIN_SECONDS;
}
/** How the kubelet checks that a gateway pod is ready (TLS served, auth on): every 5 s, not ready after 2 misses. */
export const GATEWAY_READINESS_PROBE = Object.freeze({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 });
/**
 * Seconds a new gateway pod must stay ready before a rollout counts it available and retires an old one: two
 * readiness periods, so a pod that fails right after its first good probe never replaces a working one, and the
 * load balancer's health probe (externalTrafficPolicy Local: per node) has seen the new pod's node.
 */
export const GATEWAY_MIN_READY_SECONDS = 2 * GATEWAY_READINESS_PROBE.periodSeconds;

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

/** Defaults of `KubernetesGatewayAcme`. */
export const KUBERNETES_GATEWAY_ACME_DEFAULTS = Object.freeze({
    /** AKS's built-in Azure Files (SMB) class: ReadWriteMany, files 0777, symbolic links and locks work. */
    storageClassName: "azurefile-csi",
    storageSize: "1Gi",
});

/**
 * The gateway's certificate from an ACME server over HTTP-01, renewed in the running gateway pods (`GatewayAcme`), and
 * where the renewal keeps its state on Kubernetes: a ReadWriteMany PersistentVolumeClaim `{name}-acme` that every
 * gateway pod mounts at `ACME_PATHS.stateDir` (the pods take turns through a lock file on it, and whichever pod the
 * load balancer sends the ACME server's challenge request to serves the challenge file from it). The renewal reaches
 * the ACME server on TCP 443 at public addresses only (the gateway's egress NetworkPolicy), so `renewal.directoryUrl`
 * must be on port 443 and resolve to a public address.
 */
export interface KubernetesGatewayAcme extends GatewayAcme {
    /**
     * StorageClass of the state volume; it must offer ReadWriteMany, write access for the gateway's non-root user
     * (`GATEWAY_RUN_AS_USER`, group `fsGroup`), symbolic links and locks shared between nodes. Mount options (`uid`,
     * `gid`, `dir_mode`, `file_mode`, `mfsymlinks`, `nobrl`) belong to the StorageClass, not to the claim. Default
     * `azurefile-csi`: AKS's Azure Files (SMB) class, whose driver mounts with `dir_mode=0777,file_mode=0777` and
     * `mfsymlinks` (no `nobrl`, so locks reach the file server), so the non-root user can write, link and lock. A class
     * with `nobrl` would make the lock node-local.
     */
    storageClassName?: string;
    /** Requested size of the state volume (Kubernetes quantity). Default `1Gi` (the state takes a few hundred KiB). */
    storageSize?: string;
}

/** Checks the ACME settings of the Kubernetes gateway; throws naming the field (`field.renewal.email` …). */
export function validateKubernetesGatewayAcme(acme: KubernetesGatewayAcme, field = "acme"): void {
    validateAcmeRenewal(acme.renewal, `${field}.renewal`);
    checkAcmeDirectoryOnHttpsPort(acme.renewal.directoryUrl, `${field}.renewal.directoryUrl`);
    if (acme.caBundlePem !== undefined) checkCaBundle(acme.caBundlePem, `${field}.caBundlePem`);
    if (acme.storageClassName !== undefined && !isDnsName(acme.storageClassName)) {
        throw new Error(`\`${field}.storageClassName\` must be a StorageClass name such as \`azurefile-csi\`, got ${show(acme.storageClassName)}`);
    }
    if (acme.storageSize !== undefined && !(isQuantity(acme.storageSize) && parseQuantity(acme.storageSize) >= 1)) {
        throw new Error(`\`${field}.storageSize\` must be a Kubernetes quantity of bytes such as \`1Gi\`, got ${show(acme.storageSize)}`);
    }
}

/** What the AKS gateway serves, for the gateway renderer. */
export interface KubernetesGatewaySettings {
    /** Namespace of the models (the DNS routing template is `model-{model}.{namespace}.svc.cluster.local`). */
    namespace: string;
    /** Models listed on the landing page and with per-model user lists; any model in the namespace is routed. */
    models: Model[];
    /** Cluster DNS (kube-dns) address for nginx's resolver. Default `AKS_DNS_SERVICE_IP`. */
    resolver?: string;
    /** Request limits and timeouts (the gateway renderer's defaults otherwise). */
    limits?: GatewayLimits;
    /** Landing page title. Default the renderer's. */
    title?: string;
    /** Per-model metrics at `/metrics` (the image needs nginx's Lua module, `GatewayConfig.metrics`). Default false. */
    metrics?: boolean;
}

/**
 * The gateway renderer's config for AKS: DNS routing to the models' Services (`model-{model}.{namespace}.svc.cluster.local:8000`,
 * `modelRouting`) through kube-dns, TLS and htpasswd from the mounted Secrets (with `acme`, TLS from the renewal's
 * state volume and the challenge webroot served), unprivileged listen ports behind the LoadBalancer's 80/443.
 */
export function kubernetesGatewayConfig(settings: KubernetesGatewaySettings, acme = false): GatewayConfig {
    const paths = KUBERNETES_GATEWAY_PATHS;
    const routing = modelRouting("aks", settings.namespace);
    return {
        models: settings.models.map((m) => ({ name: m.name, ...(m.users ? { users: m.users } : {}) })),
        routing: {
            mode: "dns",
            resolver: [settings.resolver ?? AKS_DNS_SERVICE_IP],
            nameTemplate: routing.hostTemplate,
            port: routing.port,
        },
        tls: acme ? ACME_TLS_FILES : { certificatePath: `${paths.tls}/tls.crt`, keyPath: `${paths.tls}/tls.key` },
        // pid and temp files on the pod's writable /tmp (the root filesystem is read-only).
        paths: { htpasswd: `${paths.auth}/htpasswd`, landingDir: paths.site, pidFile: GATEWAY_PID_FILE, tempDir: "/tmp" },
        limits: settings.limits,
        httpsPort: GATEWAY_CONTAINER_PORTS.https,
        httpPort: GATEWAY_CONTAINER_PORTS.http,
        publicHttpsPort: GATEWAY_SETTINGS_DEFAULTS.httpsPort,
        ...(settings.title !== undefined ? { title: settings.title } : {}),
        ...(settings.metrics ? { metrics: true } : {}),
    };
}

/**
 * nginx.conf and the landing page of the AKS gateway (`siteFiles` of `renderGatewayObjects`). `options.acme`: the
 * certificate comes from the ACME renewal (`GatewayObjectsOptions.acme`). Default false: from the TLS Secret.
 */
export function renderKubernetesGatewayFiles(
    settings: KubernetesGatewaySettings,
    options: { acme?: boolean } = {},
): { nginxConf: string; siteFiles: Record<string, string> } {
    const files = renderGatewayFiles(kubernetesGatewayConfig(settings, options.acme ?? false));
    return { nginxConf: files["nginx.conf"], siteFiles: landingFiles(files) };
}

export interface GatewayObjectsOptions {
    /** Namespace of the gateway's objects. */
    namespace: string;
    /** Base name of the gateway's objects. Default `gateway`. */
    name?: string;
    /** Rendered nginx.conf (`renderKubernetesGatewayFiles`, with `{ acme: true }` when `acme` is set). */
    nginxConf: string;
    /** Static files served by the gateway (the landing page), file name → contents. */
    siteFiles: Record<string, string>;
    /** PEM certificate chain of the gateway. Required without `acme`, refused with it. */
    tlsCert?: string;
    /** PEM private key of the gateway (secret). Required without `acme`, refused with it. */
    tlsKey?: string;
    /**
     * The certificate from an ACME server (HTTP-01), renewed in the gateway pods: the renewal script is the container's
     * command (the image needs lego, openssl, GNU date and flock), its state on a ReadWriteMany claim `{name}-acme`, and
     * the egress policy also opens TCP 443 to public addresses. Replaces `tlsCert` and `tlsKey`. Default none.
     */
    acme?: KubernetesGatewayAcme;
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
    /**
     * nginx's read timeout, seconds (the rendered nginx.conf's `proxy_read_timeout`): the longest request a stopping
     * pod must finish. Default `GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds` (120).
     */
    readTimeoutSeconds?: number;
}

export interface GatewayObjects {
    config: KubernetesObject;
    /** `{name}-tls`, the certificate and key; none with ACME. */
    tlsSecret?: KubernetesObject;
    /** `{name}-acme`, the ACME renewal's state (ReadWriteMany); only with ACME. */
    acmeVolumeClaim?: KubernetesObject;
    htpasswdSecret: KubernetesObject;
    deployment: KubernetesObject;
    service: KubernetesObject;
    disruptionBudget: KubernetesObject;
    /** The namespace's `default-deny` NetworkPolicy (`DEFAULT_DENY_POLICY_NAME`). */
    defaultDeny: KubernetesObject;
    /** `{name}-ingress`: clients reach the gateway pods on their http/https ports. */
    ingressPolicy: KubernetesObject;
    /** `{name}-egress`: the gateway pods reach model pods and the cluster DNS only (with ACME also TCP 443 on the internet). */
    egressPolicy: KubernetesObject;
}

/**
 * The gateway pods' ingress: from anywhere on the ports nginx listens on, and nothing else. The LoadBalancer keeps
 * the client's address (externalTrafficPolicy Local), so the peers are every address: no `from` at all.
 */
function gatewayIngressPolicy(name: string, namespace: string, labels: Record<string, string>, selector: Record<string, string>): KubernetesObject {
    const ports = ["http", "https"].map((port) => ({ protocol: "TCP", port }));
    return networkPolicy({ name: `${name}-ingress`, namespace, labels }, { matchLabels: selector }, { ingress: [{ ports }] });
}

/**
 * The gateway pods' egress: model pods on their `http` port and the cluster DNS, nothing else; with ACME also the ACME
 * server on TCP 443 at a public address (`INTERNET_EGRESS`). Even a Service named like a model cannot make the gateway
 * reach a pod that is not one (needs a cluster with a network policy engine; `AksCluster` enables Cilium's).
 */
function gatewayEgressPolicy(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    selector: Record<string, string>,
    acme: boolean,
): KubernetesObject {
    const toModels = { to: [{ podSelector: { matchLabels: { ...MODEL_POD_LABELS } } }], ports: [{ protocol: "TCP", port: "http" }] };
    const egress: object[] = [toModels, clusterDnsEgressRule()];
    if (acme) egress.push(internetEgressRule([{ protocol: "TCP", port: 443 }]));
    return networkPolicy({ name: `${name}-egress`, namespace, labels }, { matchLabels: selector }, { egress });
}

/** Refuses an nginx.conf that reads its certificate from elsewhere than the pod will have it (Secret or ACME volume). */
function checkNginxConfTls(nginxConf: string, acme: boolean): void {
    const servesAcme = nginxConf.includes(ACME_PATHS.certificate);
    if (acme && !servesAcme) {
        throw new Error(
            "`nginxConf` does not serve the ACME renewal's certificate but `acme` is set: render it with `renderKubernetesGatewayFiles(settings, { acme: true })`",
        );
    }
    if (!acme && servesAcme) {
        throw new Error("`nginxConf` serves the ACME renewal's certificate but `acme` is not set: set `acme`, or render it without `{ acme: true }`");
    }
}

/**
 * The gateway's objects: ConfigMap, two Secrets, nginx Deployment, LoadBalancer Service 80/443, PDB, its ingress and
 * egress NetworkPolicies, and the namespace's default-deny NetworkPolicy. With `acme`: no TLS Secret, the renewal's
 * script (and CA bundle) in the ConfigMap and its state volume's PersistentVolumeClaim.
 */
export function renderGatewayObjects(options: GatewayObjectsOptions): GatewayObjects {
    const { acme } = options;
    validateGatewayCertificateSource({ certificate: options.tlsCert !== undefined, key: options.tlsKey !== undefined, acme: acme !== undefined });
    if (acme) validateKubernetesGatewayAcme(acme);
    checkNginxConfTls(options.nginxConf, acme !== undefined);
    const name = options.name ?? "gateway";
    const { namespace } = options;
    const replicas = options.replicas ?? GATEWAY_SETTINGS_DEFAULTS.replicas.aks;
    const selector = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
    const labels = { ...selector, ...GATEWAY_POD_LABELS, "app.kubernetes.io/managed-by": "plumberhub" };
    const names = { config: `${name}-config`, tls: `${name}-tls`, htpasswd: `${name}-htpasswd`, acme: `${name}-acme` };
    const configData: Record<string, string> = { "nginx.conf": options.nginxConf };
    if (acme) {
        configData[ACME_FILE_NAMES.script] = renderGatewayAcmeScript(acme);
        if (acme.caBundlePem !== undefined) configData[ACME_FILE_NAMES.caBundle] = acme.caBundlePem;
    }
    for (const [file, contents] of Object.entries(options.siteFiles)) configData[`site-${file}`] = contents;
    const tls = acmeOrSecretTls(names, options);
    // Rolls the pods when any file they read changes (ConfigMap and Secret updates do not restart pods); with ACME the
    // ConfigMap holds the renewal script, so a new renewal config rolls them too.
    const checksum = configChecksum({ config: configData, cert: options.tlsCert, key: options.tlsKey, htpasswd: options.htpasswd });
    const serviceAnnotations: Record<string, string> = {
        [AZURE_PROBE_INTERVAL_ANNOTATION]: String(GATEWAY_LB_PROBE.intervalSeconds),
        [AZURE_PROBE_FAILURES_ANNOTATION]: String(GATEWAY_LB_PROBE.failures),
    };
    if (options.dnsLabel) serviceAnnotations[AZURE_DNS_LABEL_ANNOTATION] = options.dnsLabel;
    if (options.staticIp) serviceAnnotations[AZURE_STATIC_IP_ANNOTATION] = options.staticIp;
    if (options.staticIpResourceGroup) serviceAnnotations[AZURE_IP_RESOURCE_GROUP_ANNOTATION] = options.staticIpResourceGroup;
    if (options.skipLoadBalancerAwait) serviceAnnotations[SKIP_AWAIT_ANNOTATION] = "true";
    const probe = { httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" } };
    // Ready only when TLS is served and auth is on (an httpGet probe cannot expect the 401).
    const ready = { exec: { command: ["sh", "-c", gatewayReadyCommand(GATEWAY_CONTAINER_PORTS.https)] } };
    return {
        config: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: names.config, namespace, labels }, data: configData },
        ...(acme
            ? {
                  acmeVolumeClaim: {
                      apiVersion: "v1",
                      kind: "PersistentVolumeClaim",
                      metadata: { name: names.acme, namespace, labels },
                      spec: {
                          // Every replica serves the challenge from the same webroot and takes turns through its lock.
                          accessModes: ["ReadWriteMany"],
                          storageClassName: acme.storageClassName ?? KUBERNETES_GATEWAY_ACME_DEFAULTS.storageClassName,
                          resources: { requests: { storage: acme.storageSize ?? KUBERNETES_GATEWAY_ACME_DEFAULTS.storageSize } },
                      },
                  },
              }
            : {
                  tlsSecret: {
                      apiVersion: "v1",
                      kind: "Secret",
                      metadata: { name: names.tls, namespace, labels },
                      type: "kubernetes.io/tls",
                      stringData: { "tls.crt": options.tlsCert, "tls.key": options.tlsKey },
                  },
              }),
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
                minReadySeconds: GATEWAY_MIN_READY_SECONDS,
                revisionHistoryLimit: 5,
                selector: { matchLabels: selector },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels, annotations: { [CONFIG_CHECKSUM_ANNOTATION]: checksum } },
                    spec: {
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        terminationGracePeriodSeconds: gatewayTerminationGraceSeconds(
                            options.readTimeoutSeconds ?? GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds,
                        ),
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: GATEWAY_RUN_AS_USER,
                            runAsGroup: GATEWAY_RUN_AS_USER,
                            // The Secret files are mode 0440: readable through the group (and the ACME volume is mounted with it).
                            fsGroup: GATEWAY_RUN_AS_USER,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        // Hard over nodes: two small pods, and the gateway is the hub's single way in (`topologySpread`).
                        topologySpreadConstraints: topologySpread(selector, true),
                        containers: [
                            {
                                name: "nginx",
                                image: options.image ?? DEFAULT_GATEWAY_IMAGE,
                                // nginx itself (or the ACME renewal, which runs nginx as its child), not the image's
                                // entrypoint scripts (they try to edit files on the read-only root).
                                command: tls.command,
                                ports: [
                                    { name: "http", containerPort: GATEWAY_CONTAINER_PORTS.http, protocol: "TCP" },
                                    { name: "https", containerPort: GATEWAY_CONTAINER_PORTS.https, protocol: "TCP" },
                                ],
                                resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
                                readinessProbe: { ...ready, ...GATEWAY_READINESS_PROBE },
                                // Endpoints drop a terminating pod while it still serves; then nginx's graceful stop
                                // (quit) lets requests in progress finish before the kubelet's SIGTERM (a fast stop).
                                lifecycle: { preStop: { exec: { command: ["sh", "-c", GATEWAY_DRAIN_COMMAND] } } },
                                livenessProbe: { ...probe, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
                                securityContext: DROP_ALL,
                                volumeMounts: [
                                    { name: "config", mountPath: KUBERNETES_GATEWAY_PATHS.config, subPath: "nginx.conf", readOnly: true },
                                    { name: "site", mountPath: KUBERNETES_GATEWAY_PATHS.site, readOnly: true },
                                    ...tls.volumeMounts,
                                    { name: "htpasswd", mountPath: KUBERNETES_GATEWAY_PATHS.auth, readOnly: true },
                                    { name: "tmp", mountPath: "/tmp" },
                                ],
                            },
                        ],
                        volumes: [
                            {
                                name: "config",
                                configMap: { name: names.config, items: [{ key: "nginx.conf", path: "nginx.conf" }, ...tls.configItems] },
                            },
                            {
                                name: "site",
                                configMap: {
                                    name: names.config,
                                    items: Object.keys(options.siteFiles)
                                        .sort()
                                        .map((file) => ({ key: `site-${file}`, path: file })),
                                },
                            },
                            ...tls.volumes,
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
            metadata: { name, namespace, labels, annotations: serviceAnnotations },
            spec: {
                type: "LoadBalancer",
                // Keeps the client's address (access log, rate limits); the LB only sends to nodes with a gateway pod.
                externalTrafficPolicy: "Local",
                selector,
                ports: [
                    { name: "http", port: GATEWAY_SETTINGS_DEFAULTS.httpPort, targetPort: "http", protocol: "TCP" },
                    { name: "https", port: GATEWAY_SETTINGS_DEFAULTS.httpsPort, targetPort: "https", protocol: "TCP" },
                ],
            },
        },
        disruptionBudget: disruptionBudget(name, namespace, labels, selector),
        defaultDeny: renderDefaultDenyPolicy(namespace),
        ingressPolicy: gatewayIngressPolicy(name, namespace, labels, selector),
        egressPolicy: gatewayEgressPolicy(name, namespace, labels, selector, acme !== undefined),
    };
}

/**
 * Where the gateway container gets its certificate: the TLS Secret mounted for nginx, or (with ACME) the renewal
 * script as the command (from the ConfigMap, executable), its CA bundle, and the state volume.
 */
function acmeOrSecretTls(names: { tls: string; acme: string }, options: GatewayObjectsOptions) {
    if (!options.acme) {
        return {
            command: ["nginx", "-g", "daemon off;"],
            configItems: [],
            volumeMounts: [{ name: "tls", mountPath: KUBERNETES_GATEWAY_PATHS.tls, readOnly: true }],
            volumes: [{ name: "tls", secret: { secretName: names.tls, defaultMode: 0o440 } }],
        };
    }
    const files = [
        { key: ACME_FILE_NAMES.script, mountPath: ACME_PATHS.script, mode: 0o555 },
        ...(options.acme.caBundlePem !== undefined ? [{ key: ACME_FILE_NAMES.caBundle, mountPath: ACME_PATHS.caBundle, mode: 0o444 }] : []),
    ];
    return {
        command: [ACME_PATHS.script, "serve"],
        configItems: files.map(({ key, mode }) => ({ key, path: key, mode })),
        volumeMounts: [
            ...files.map(({ key, mountPath }) => ({ name: "config", mountPath, subPath: key, readOnly: true })),
            { name: "acme", mountPath: ACME_PATHS.stateDir },
        ],
        volumes: [{ name: "acme", persistentVolumeClaim: { claimName: names.acme } }],
    };
}

/** The objects of `renderGatewayObjects` as a list, in apply order (the ones it rendered: no TLS Secret with ACME). */
export function gatewayObjectList(objects: GatewayObjects): KubernetesObject[] {
    return [
        objects.defaultDeny,
        objects.ingressPolicy,
        objects.egressPolicy,
        objects.config,
        objects.tlsSecret,
        objects.acmeVolumeClaim,
        objects.htpasswdSecret,
        objects.deployment,
        objects.service,
        objects.disruptionBudget,
    ].filter((object): object is KubernetesObject => object !== undefined);
}
