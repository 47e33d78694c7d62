/** The Kubernetes objects of one model: NetworkPolicy, Deployment, ClusterIP Service, autoscaler and disruption budget. */
import { GATEWAY_SETTINGS_DEFAULTS } from "../../config/gateway";
import { Model, modelEgress, modelRequest } from "../../config/model";
import { kubernetesModelServiceName, MODEL_SERVICE_PORT } from "../../config/routing";
import { MODEL_HEALTH_PATH, MODEL_UID, modelContainerEnv } from "../modelContainer";
import {
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
    TERMINATION_MARGIN_SECONDS,
    topologySpread,
} from "./objects";

/** Probe timing of the model containers. R loads packages and models slowly and serves one request at a time. */
export const MODEL_PROBES = Object.freeze({
    /** Up to 60 × 5 s = 5 minutes for the model to load before the container is restarted. */
    startup: { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
    /** A busy (single-threaded) pod leaves the Service after 3 missed checks and returns when it answers again. */
    readiness: { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    /**
     * On TCP, not HTTP: the kernel accepts connections while single-threaded R is busy with a long prediction, so
     * only a dead or hung-up listener fails it; and then only after 5 × 30 s.
     */
    liveness: { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 5 },
});

/**
 * Seconds a terminating model pod keeps serving before its container gets SIGTERM (the image's entrypoint then waits
 * for R to answer the requests it has and stops R): every node's Service routing drops the pod's endpoint meanwhile,
 * so no new request reaches a stopping R.
 */
export const MODEL_DRAIN_SECONDS = 10;
/**
 * Deadline of a terminating model pod (the drain and R's stop together) before the kubelet kills it: the drain, then
 * the longest request the gateway waits for (its read timeout, seconds), then `TERMINATION_MARGIN_SECONDS`. The image's
 * entrypoint stops R once it has answered its requests (`runEntrypointScript`), so an idle pod stops after the drain.
 */
export function modelTerminationGraceSeconds(gatewayReadTimeoutSeconds: number): number {
    return MODEL_DRAIN_SECONDS + gatewayReadTimeoutSeconds + TERMINATION_MARGIN_SECONDS;
}

/**
 * How the HPA changes a model's replica count. Up fast (Kubernetes' default: at once, doubling or +4 pods per 15 s):
 * R serves one request at a time, so a busy model needs pods now. Down slowly: only when 5 minutes of
 * recommendations all agree, one pod per minute, because a new R pod takes minutes to load (startup probe up to 5)
 * and a brief lull must not give away capacity the next burst needs.
 */
export const MODEL_AUTOSCALING_BEHAVIOR = Object.freeze({
    scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
            { type: "Percent", value: 100, periodSeconds: 15 },
            { type: "Pods", value: 4, periodSeconds: 15 },
        ],
    },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
});

/** Size cap of the writable `/tmp` of a model container (R writes its session temp files there). */
export const MODEL_TMP_SIZE = "1Gi";

/** Name of the container that runs R in a model's pods (`kubectl logs -c`, the operator commands' log reader). */
export const MODEL_CONTAINER_NAME = "model";

/** Labels that select one model's pods (stable: a selector cannot change after creation). */
export function modelSelector(modelName: string): Record<string, string> {
    return { "app.kubernetes.io/name": modelName, "app.kubernetes.io/part-of": PART_OF };
}

function modelLabels(modelName: string): Record<string, string> {
    return { ...modelSelector(modelName), ...MODEL_POD_LABELS, "app.kubernetes.io/managed-by": "plumberhub" };
}

export interface ModelObjectsOptions {
    /** Namespace of the model's objects. */
    namespace: string;
    /** Image reference; by digest (`registry/repo@sha256:…`) so a new build always rolls the pods. */
    image: string;
    /** Also expose the model directly (no gateway, no auth) on its own LoadBalancer on port 8000. Default false. */
    loadBalancer?: boolean;
    /**
     * The gateway's read timeout, seconds (`plumberhub:gateway.readTimeoutSeconds`): the longest request a stopping
     * pod must finish. Default `GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds` (120).
     */
    gatewayReadTimeoutSeconds?: number;
}

/** A model's objects: always a NetworkPolicy, a Deployment and a ClusterIP Service; an HPA, a PDB and a public Service when asked for. */
export interface ModelObjects {
    /** `model-{name}`: who may reach the model's pods and what they may reach. */
    networkPolicy: KubernetesObject;
    deployment: KubernetesObject;
    service: KubernetesObject;
    autoscaler?: KubernetesObject;
    disruptionBudget?: KubernetesObject;
    loadBalancer?: KubernetesObject;
}

/**
 * The NetworkPolicy `model-{name}` of a model's pods (it isolates them both ways on its own, so the pods are never
 * open, whatever else the namespace holds). In: from the gateway's pods (in the namespace) on the `http` port, and
 * from anywhere on it with a public `loadBalancer` Service. Out: the cluster DNS, and with `egress: "internet"`
 * the public internet on any port (`INTERNET_EGRESS`).
 */
function modelNetworkPolicy(model: Model, namespace: string, labels: Record<string, string>, loadBalancer: boolean): KubernetesObject {
    const http = [{ protocol: "TCP", port: "http" }];
    const fromGateway = { from: [{ podSelector: { matchLabels: { ...GATEWAY_POD_LABELS } } }], ports: http };
    const egress: object[] = [clusterDnsEgressRule()];
    if (modelEgress(model) === "internet") egress.push(internetEgressRule());
    return networkPolicy(
        { name: kubernetesModelServiceName(model.name), namespace, labels },
        { matchLabels: modelSelector(model.name) },
        {
            // The public Service keeps no client address (externalTrafficPolicy Cluster): any source, on `http` only.
            ingress: loadBalancer ? [fromGateway, { ports: http }] : [fromGateway],
            egress,
        },
    );
}

/**
 * The Kubernetes objects of one validated model. The ClusterIP Service is `model-{name}` (`config/routing.ts`): the
 * gateway routes `/{model}/…` only to Services so named, and its NetworkPolicy only to pods labelled as models. The
 * NetworkPolicy shares that name.
 */
export function renderModelObjects(model: Model, options: ModelObjectsOptions): ModelObjects {
    const { namespace } = options;
    const selector = modelSelector(model.name);
    const labels = modelLabels(model.name);
    const minReplicas = model.autoscaling ? model.autoscaling.minReplicas : model.replicas;
    const readTimeoutSeconds = options.gatewayReadTimeoutSeconds ?? GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds;
    // The container waits that long for R's requests when it stops; the grace below covers the wait.
    const env = Object.entries(modelContainerEnv(model, readTimeoutSeconds)).map(([name, value]) => ({ name, value }));
    const httpGet = { path: MODEL_HEALTH_PATH, port: "http" };
    const loadBalancer = options.loadBalancer ?? false;
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
                    terminationGracePeriodSeconds: modelTerminationGraceSeconds(readTimeoutSeconds),
                    // Kubernetes can only enforce `runAsNonRoot` on a numeric user: the image's (MODEL_UID).
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: MODEL_UID,
                        runAsGroup: MODEL_UID,
                        fsGroup: MODEL_UID,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    // Soft: replicas may be many and large, a Pending pod costs more than an uneven spread (`topologySpread`).
                    topologySpreadConstraints: topologySpread(selector, false),
                    containers: [
                        {
                            name: MODEL_CONTAINER_NAME,
                            image: options.image,
                            ports: [{ name: "http", containerPort: model.port, protocol: "TCP" }],
                            env,
                            resources: {
                                requests: { cpu: modelRequest(model, "cpu", "aks"), memory: modelRequest(model, "memory", "aks") },
                                limits: { cpu: model.cpu.limit, memory: model.memory.limit },
                            },
                            startupProbe: { httpGet, ...MODEL_PROBES.startup },
                            readinessProbe: { httpGet, ...MODEL_PROBES.readiness },
                            livenessProbe: { tcpSocket: { port: "http" }, ...MODEL_PROBES.liveness },
                            // The kubelet's own sleep: model images need not have a shell or a `sleep` binary.
                            lifecycle: { preStop: { sleep: { seconds: MODEL_DRAIN_SECONDS } } },
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
        networkPolicy: modelNetworkPolicy(model, namespace, labels, loadBalancer),
        deployment,
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: kubernetesModelServiceName(model.name), namespace, labels },
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
                behavior: MODEL_AUTOSCALING_BEHAVIOR,
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
    if (loadBalancer) {
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
    return [objects.networkPolicy, objects.deployment, objects.service, objects.autoscaler, objects.disruptionBudget, objects.loadBalancer].filter(
        (o): o is KubernetesObject => o !== undefined,
    );
}
