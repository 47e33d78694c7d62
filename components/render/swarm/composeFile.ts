/** The plan as a compose v3.8 stack file plus its config and secret files, for `docker stack deploy`. */
import { stringify } from "yaml";
import { SwarmFile, SwarmFileMount, SwarmServicePlan, SwarmStackPlan, SwarmUpdatePlan } from "./plan";

/** Key of the hub network inside the stack file. */
const NETWORK_KEY = "hub";

function composeUpdate(update: SwarmUpdatePlan): Record<string, unknown> {
    return {
        parallelism: update.parallelism,
        delay: update.delay,
        order: update.order,
        failure_action: update.failureAction,
        monitor: update.monitor,
    };
}

function composeService(service: SwarmServicePlan): Record<string, unknown> {
    const cpus = (nano: number) => String(nano / 1e9);
    const out: Record<string, unknown> = { image: service.image };
    if (service.command) out.command = service.command;
    if (Object.keys(service.env).length > 0) out.environment = service.env;
    if (service.healthcheck) {
        const h = service.healthcheck;
        out.healthcheck = { test: h.test, interval: h.interval, timeout: h.timeout, retries: h.retries, start_period: h.startPeriod };
    }
    out.networks = { [NETWORK_KEY]: service.aliases.length > 0 ? { aliases: service.aliases } : {} };
    if (service.ports.length > 0) {
        out.ports = service.ports.map((p) => ({ target: p.target, published: p.published, protocol: "tcp", mode: p.mode }));
    }
    const files = (mounts: SwarmFileMount[]) => mounts.map((m) => ({ source: m.source, target: m.target, mode: m.mode }));
    if (service.configs.length > 0) out.configs = files(service.configs);
    if (service.secrets.length > 0) out.secrets = files(service.secrets);
    const mounts = [
        ...service.volumes.map((v) => ({ type: "volume", source: v.source, target: v.target })),
        ...(service.binds ?? []).map((b) => ({ type: "bind", source: b.source, target: b.target })),
    ];
    if (mounts.length > 0) out.volumes = mounts;
    out.stop_grace_period = service.stopGracePeriod;
    if (service.stopSignal) out.stop_signal = service.stopSignal;
    const deploy: Record<string, unknown> = {
        ...(service.global ? { mode: "global" } : { mode: "replicated", replicas: service.replicas }),
        endpoint_mode: service.endpointMode,
        labels: service.labels,
    };
    if (service.resources) {
        const r = service.resources;
        deploy.resources = {
            limits: { cpus: cpus(r.limits.nanoCpus), memory: String(r.limits.memoryBytes) },
            ...(r.reservations ? { reservations: { cpus: cpus(r.reservations.nanoCpus), memory: String(r.reservations.memoryBytes) } } : {}),
        };
    }
    deploy.restart_policy = {
        condition: service.restart.condition,
        delay: service.restart.delay,
        max_attempts: service.restart.maxAttempts,
        window: service.restart.window,
    };
    deploy.update_config = composeUpdate(service.update);
    deploy.rollback_config = composeUpdate(service.rollback);
    const placement = {
        ...(service.constraints.length > 0 ? { constraints: service.constraints } : {}),
        ...(service.spread?.length ? { preferences: service.spread.map((descriptor) => ({ spread: descriptor })) } : {}),
        ...(service.maxReplicasPerNode !== undefined ? { max_replicas_per_node: service.maxReplicasPerNode } : {}),
    };
    if (Object.keys(placement).length > 0) deploy.placement = placement;
    out.deploy = deploy;
    return out;
}

/**
 * `docker stack deploy` substitutes `$VAR` / `${VAR}` in every string of a stack file from the deploying
 * shell; `$$` is a literal `$`. The plan's strings are literal (e.g. `$status` in the healthcheck's shell),
 * so every `$` is doubled.
 */
function escapeInterpolation<T>(value: T): T {
    if (typeof value === "string") return value.replace(/\$/g, "$$$$") as T;
    if (Array.isArray(value)) return value.map(escapeInterpolation) as T;
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)])) as T;
    }
    return value;
}

/** The compose v3.8 document (as an object) that `docker stack deploy -c` reads; `$` escaped as `$$`. */
export function renderComposeStack(plan: SwarmStackPlan): Record<string, unknown> {
    const fileEntries = (files: SwarmFile[]) => Object.fromEntries(files.map((f) => [f.key, { name: f.name, file: `./${f.fileName}` }]));
    const doc: Record<string, unknown> = {
        version: "3.8",
        services: Object.fromEntries(plan.services.map((s) => [s.name, composeService(s)])),
        networks: {
            [NETWORK_KEY]: plan.network.external
                ? { name: plan.network.name, external: true }
                : { name: plan.network.name, driver: "overlay", attachable: true },
        },
    };
    if (plan.configs.length > 0) doc.configs = fileEntries(plan.configs);
    if (plan.secrets.length > 0) doc.secrets = fileEntries(plan.secrets);
    if (plan.volumes.length > 0) doc.volumes = Object.fromEntries(plan.volumes.map((v) => [v, { name: v }]));
    return escapeInterpolation(doc);
}

/** Name of the stack file in the exported folder. */
export const STACK_FILE_NAME = "docker-stack.yml";

/**
 * Every file of the export, by path relative to the output folder: `docker-stack.yml` and the files its
 * `configs:`/`secrets:` point to (`configs/…`, `secrets/…`). Deploy with
 * `docker stack deploy -c DIR/docker-stack.yml STACK` from any folder (paths are relative to the stack file).
 * The `secrets/` files hold private keys and password hashes: write them with mode 0600 and never commit them.
 */
export function renderSwarmStackFiles(plan: SwarmStackPlan): Record<string, string> {
    const header = "# Generated by plumberhub from the same plan as the Pulumi resources. Do not edit.\n";
    const files: Record<string, string> = {
        [STACK_FILE_NAME]: header + stringify(renderComposeStack(plan), { lineWidth: 0 }),
    };
    for (const file of [...plan.configs, ...plan.secrets]) files[file.fileName] = file.contents;
    return files;
}
