/** The Kubernetes objects of one model: Deployment, ClusterIP Service, autoscaler and disruption budget. */
import { Model, modelRequest } from "../../config/model";
import { kubernetesModelServiceName, MODEL_SERVICE_PORT } from "../../config/routing";
import { MODEL_HEALTH_PATH, MODEL_UID, modelContainerEnv } from "../modelContainer";
import { configChecksum, CONFIG_CHECKSUM_ANNOTATION, disruptionBudget, DROP_ALL, KubernetesObject, PART_OF, spreadOverNodes } from "./objects";

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

/** Labels that select one model's pods (stable: a selector cannot change after creation). */
export function modelSelector(modelName: string): Record<string, string> {
    return { "app.kubernetes.io/name": modelName, "app.kubernetes.io/part-of": PART_OF };
}

/** Labels every model pod carries, whatever its model: what the gateway's NetworkPolicy lets it reach. */
export const MODEL_POD_LABELS = Object.freeze({ "app.kubernetes.io/component": "model", "app.kubernetes.io/part-of": PART_OF });

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
 * The Kubernetes objects of one validated model. The ClusterIP Service is `model-{name}` (`config/routing.ts`): the
 * gateway routes `/{model}/…` only to Services so named, and its NetworkPolicy only to pods labelled as models.
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
                                requests: { cpu: modelRequest(model, "cpu", "aks"), memory: modelRequest(model, "memory", "aks") },
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
