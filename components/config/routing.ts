/**
 * How the gateway finds a model, the one home of the rule on both targets: `/{model}/…` goes to a DNS name that only
 * model services answer to — never to a bare service name. A model is routable because the platform or a `TeamModel`
 * made it one (a network alias on swarm, a `model-` Service on Kubernetes), so a database, a metrics endpoint or any
 * other service that shares the network or namespace stays out of reach of the gateway's users.
 */
import type { HubTarget } from "./target";
import { MODEL_DEFAULTS } from "./model";

/** The placeholder for the model's name in a host template. */
export const MODEL_PLACEHOLDER = "{model}";

/**
 * Swarm: the network alias every model service gets on the hub network, and the only name the gateway resolves.
 * Aliases are scoped to one network, so one suffix serves every hub; `.internal` is reserved for private use (ICANN,
 * 2024), so a name no model has is not found upstream either when Docker's DNS forwards it.
 */
export const SWARM_MODEL_HOST_TEMPLATE = `${MODEL_PLACEHOLDER}.models.plumberhub.internal`;

/** Kubernetes: prefix of a model's ClusterIP Service name, the only Services the gateway resolves. */
export const KUBERNETES_MODEL_SERVICE_PREFIX = "model-";

/** The ClusterIP Service name of `model` on Kubernetes. */
export function kubernetesModelServiceName(model: string): string {
    return `${KUBERNETES_MODEL_SERVICE_PREFIX}${model}`;
}

/** The host template of model Services in `namespace` on Kubernetes. */
export function kubernetesModelHostTemplate(namespace: string): string {
    return `${kubernetesModelServiceName(MODEL_PLACEHOLDER)}.${namespace}.svc.cluster.local`;
}

/** A host template with the model's name filled in. */
export function modelHost(template: string, model: string): string {
    return template.split(MODEL_PLACEHOLDER).join(model);
}

/**
 * Kubernetes: the port of every model's ClusterIP Service, whatever port plumber uses inside (the Service maps it to
 * the container's `http` port): the gateway's DNS routing needs one port for the models it does not list.
 */
export const MODEL_SERVICE_PORT = 8000;

/** How the gateway routes models it does not list (those joining from other stacks), per target. */
export interface ModelRouting {
    /** Host name the gateway resolves for `{model}`. */
    hostTemplate: string;
    /** Port it connects to on that host. */
    port: number;
}

/**
 * The gateway's routing of unlisted models on `target`: on swarm the model alias and the models' default port (a
 * swarm service has no port mapping, so a joining model must listen there); on Kubernetes the `model-` Service in
 * `namespace` and its fixed port.
 */
export function modelRouting(target: HubTarget, namespace?: string): ModelRouting {
    if (target === "swarm") return { hostTemplate: SWARM_MODEL_HOST_TEMPLATE, port: MODEL_DEFAULTS.port };
    if (namespace === undefined) throw new Error("the Kubernetes model routing needs the models' namespace");
    return { hostTemplate: kubernetesModelHostTemplate(namespace), port: MODEL_SERVICE_PORT };
}
