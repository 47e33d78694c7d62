/** A whole AKS environment's objects in apply order, and their YAML export (secrets redacted unless asked for). */
import { stringify } from "yaml";
import { DEFAULT_NAMESPACE } from "../../config/aks";
import { Model } from "../../config/model";
import {
    gatewayObjectList,
    GatewayObjectsOptions,
    KubernetesGatewaySettings,
    renderGatewayObjects,
    renderKubernetesGatewayFiles,
} from "./gatewayObjects";
import { modelObjectList, renderModelObjects } from "./modelObjects";
import { KubernetesObject, renderNamespace } from "./objects";

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

/**
 * The gateway's part of `renderKubernetesManifests`: its objects' options and what it serves. Its read timeout is
 * `limits.readTimeoutSeconds`, which also sets the grace periods of the gateway's and the models' pods.
 */
export type KubernetesGatewayManifestInput = Omit<GatewayObjectsOptions, "namespace" | "nginxConf" | "siteFiles" | "readTimeoutSeconds"> &
    Omit<KubernetesGatewaySettings, "namespace" | "models">;

/** Every Kubernetes object of an environment: namespace, then each model's objects, then the gateway's. */
export function renderKubernetesManifests(input: KubernetesManifestsInput): KubernetesObject[] {
    const namespace = input.namespace ?? DEFAULT_NAMESPACE;
    const objects: KubernetesObject[] = input.createNamespace === false ? [] : [renderNamespace(namespace)];
    const readTimeoutSeconds = input.gateway?.limits?.readTimeoutSeconds;
    for (const model of input.models) {
        const image = input.images[model.name];
        if (!image) throw new Error(`\`images\` has no image for model \`${model.name}\`; give one per model (by digest)`);
        const loadBalancer = input.loadBalancedModels?.includes(model.name) ?? false;
        objects.push(
            ...modelObjectList(renderModelObjects(model, { namespace, image, loadBalancer, gatewayReadTimeoutSeconds: readTimeoutSeconds })),
        );
    }
    if (input.gateway) {
        const { resolver, limits, title, metrics, ...gateway } = input.gateway;
        const files = renderKubernetesGatewayFiles(
            { namespace, models: input.models, resolver, limits, title, metrics },
            { acme: gateway.acme !== undefined },
        );
        objects.push(...gatewayObjectList(renderGatewayObjects({ ...gateway, ...files, namespace, readTimeoutSeconds })));
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
            const values = o[field] as Record<string, string> | undefined;
            if (values) redacted[field] = Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED]));
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
