/**
 * A stack's models on AKS, through the Kubernetes API (@kubernetes/client-node) with the stack's kubeconfig, held in
 * memory only: a model is the Deployment named like it in the hub's namespace, its pods those its selector labels
 * pick (`renderModelObjects`), R runs in their `MODEL_CONTAINER_NAME` container. Loaded only for an AKS stack
 * (`openModelEngine`).
 */
import { PassThrough } from "stream";
import * as k8s from "@kubernetes/client-node";
import { MODEL_CONTAINER_NAME, modelSelector } from "../components/render/kubernetes/modelObjects";
import { engineError, ModelEngine } from "./modelEngine";
import { EngineFacts, lineSplitter, LogLine, LogRequest } from "./operations";

/** A label selector as the API takes it: `key=value,key=value`. */
export function labelSelector(labels: Record<string, string>): string {
    return Object.entries(labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(",");
}

/** The digest part of a container status' `imageID` (`docker-pullable://repo@sha256:…`, or `repo@sha256:…`). */
export function imageDigest(imageId: string | undefined): string | undefined {
    return /@(sha256:[0-9a-f]{64})$/.exec(imageId ?? "")?.[1];
}

/** When a Deployment was last rolled out or changed: its `Progressing` condition, else its creation. */
function deployedAt(deployment: k8s.V1Deployment): string | undefined {
    const progressing = deployment.status?.conditions?.find((condition) => condition.type === "Progressing");
    const time = progressing?.lastUpdateTime ?? deployment.metadata?.creationTimestamp;
    return time ? new Date(time).toISOString() : undefined;
}

/** The models in `namespace` of the cluster `kubeconfig` (YAML text) reaches. */
export class KubernetesModelEngine implements ModelEngine {
    readonly where: string;
    private readonly config = new k8s.KubeConfig();

    constructor(
        kubeconfig: string,
        private readonly namespace: string,
    ) {
        this.config.loadFromString(kubeconfig);
        this.where = `the Kubernetes API at ${this.config.getCurrentCluster()?.server ?? "(no current cluster in the kubeconfig)"} (namespace ${namespace})`;
    }

    private async pods(model: string): Promise<k8s.V1Pod[]> {
        const core = this.config.makeApiClient(k8s.CoreV1Api);
        const list = await core.listNamespacedPod({ namespace: this.namespace, labelSelector: labelSelector(modelSelector(model)) });
        return [...list.items].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    }

    async facts(models: string[]): Promise<Record<string, EngineFacts | undefined>> {
        const apps = this.config.makeApiClient(k8s.AppsV1Api);
        const facts: Record<string, EngineFacts | undefined> = {};
        try {
            for (const model of models) {
                let deployment: k8s.V1Deployment;
                try {
                    deployment = await apps.readNamespacedDeployment({ name: model, namespace: this.namespace });
                } catch (error) {
                    if ((error as { code?: number }).code !== 404) throw error;
                    facts[model] = undefined;
                    continue;
                }
                const container = deployment.spec?.template.spec?.containers.find((c) => c.name === MODEL_CONTAINER_NAME);
                let image = container?.image ?? "";
                // An image by tag: the digest the pods actually pulled, when they tell.
                if (!image.includes("@")) {
                    const statuses = (await this.pods(model)).flatMap((pod) => pod.status?.containerStatuses ?? []);
                    const digest = imageDigest(statuses.find((status) => status.name === MODEL_CONTAINER_NAME)?.imageID);
                    if (digest) image = `${image}@${digest}`;
                }
                const when = deployedAt(deployment);
                facts[model] = {
                    // Unset means 1 (the API's default); with an HPA it is the autoscaler's current choice.
                    desired: deployment.spec?.replicas ?? 1,
                    ready: deployment.status?.readyReplicas ?? 0,
                    image,
                    ...(when ? { deployedAt: when } : {}),
                };
            }
        } catch (error) {
            throw engineError(this.where, error);
        }
        return facts;
    }

    async logs(model: string, request: LogRequest, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<void> {
        let pods: k8s.V1Pod[];
        try {
            // Pods still waiting for their container have no log yet (the API answers 400); new pods are not followed.
            pods = (await this.pods(model)).filter((pod) => pod.status?.phase !== "Pending");
        } catch (error) {
            throw engineError(this.where, error);
        }
        if (pods.length === 0) throw new Error(`${this.where} has no running pod of model ${model}`);
        const options: k8s.LogOptions = {
            follow: request.follow,
            ...(request.tail !== undefined ? { tailLines: request.tail } : {}),
            // Whole seconds, at least one: the API takes no fraction, and 0 would mean "all".
            ...(request.since ? { sinceSeconds: Math.max(1, Math.ceil((Date.now() - request.since.getTime()) / 1000)) } : {}),
        };
        const reader = new k8s.Log(this.config);
        // Following, lines are printed as they come; otherwise each pod's lines together, pod by pod.
        const held = new Map<string, LogLine[]>();
        const deliver = (line: LogLine) => (request.follow ? onLine(line) : held.get(line.source)!.push(line));
        await Promise.all(
            pods.map(async (pod) => {
                const source = pod.metadata!.name!;
                held.set(source, []);
                const sink = new PassThrough();
                const splitter = lineSplitter();
                sink.on("data", (chunk: Buffer) => splitter.push(chunk.toString("utf8")).forEach((text) => deliver({ source, text })));
                const done = new Promise<void>((resolve) => {
                    sink.on("end", resolve);
                    sink.on("close", resolve);
                    sink.on("error", () => resolve());
                    signal?.addEventListener("abort", () => resolve(), { once: true });
                });
                let controller: AbortController;
                try {
                    controller = await reader.log(this.namespace, source, MODEL_CONTAINER_NAME, sink, options);
                } catch (error) {
                    throw engineError(`${this.where}, pod ${source}`, error);
                }
                signal?.addEventListener("abort", () => controller.abort(), { once: true });
                await done;
                splitter.end().forEach((text) => deliver({ source, text }));
            }),
        );
        if (!request.follow) for (const lines of held.values()) lines.forEach(onLine);
    }
}
