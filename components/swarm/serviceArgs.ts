import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SwarmFile, SwarmFileMount, SwarmFileRef, SwarmServicePlan, SwarmUpdatePlan } from "../render/swarm";
import type { RegistryLogin } from "../image/modelImage";

/** Docker's label list from a record. */
export function toLabels(labels: Record<string, string>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/**
 * Shared by the swarm components (not re-exported): the `docker.Service` arguments of a planned service,
 * so Pulumi and the exported stack file read the same `SwarmServicePlan`.
 * `fileIds` maps a plan file key (`nginx.conf`, `tls.key` …) to the id of its `docker.ServiceConfig`/`docker.Secret`.
 */
export function serviceArgsFromPlan(
    plan: pulumi.Output<SwarmServicePlan>,
    networkId: pulumi.Input<string>,
    fileIds: Record<string, pulumi.Input<string>> = {},
    {
        providerWaits = true,
        registryAuth,
    }: {
        /** The Docker provider waits for every task to run (false: the component waits itself). */
        providerWaits?: boolean;
        /** Login sent with the service so every node can pull its image from a private registry (`--with-registry-auth`). */
        registryAuth?: RegistryLogin;
    } = {},
): docker.ServiceArgs {
    const update = (u: SwarmUpdatePlan) => ({
        parallelism: u.parallelism,
        delay: u.delay,
        order: u.order,
        failureAction: u.failureAction,
        monitor: u.monitor,
        maxFailureRatio: "0",
    });
    const taskSpec = pulumi.all([plan, networkId, pulumi.output(fileIds)]).apply(([p, network, ids]) => {
        const fileRef = (m: SwarmFileMount) => {
            const id = ids[m.source];
            if (id === undefined) throw new Error(`service \`${p.name}\` mounts \`${m.source}\`, which has no resource`);
            return { id, name: m.name, fileName: m.target, fileMode: m.mode };
        };
        const spec: docker.types.input.ServiceTaskSpec = {
            containerSpec: {
                image: p.image,
                ...(p.command ? { args: p.command } : {}),
                env: p.env,
                labels: toLabels(p.labels),
                healthcheck: p.healthcheck && {
                    tests: p.healthcheck.test,
                    interval: p.healthcheck.interval,
                    timeout: p.healthcheck.timeout,
                    retries: p.healthcheck.retries,
                    startPeriod: p.healthcheck.startPeriod,
                },
                configs: p.configs.map(fileRef).map((f) => ({ configId: f.id, configName: f.name, fileName: f.fileName, fileMode: f.fileMode })),
                secrets: p.secrets.map(fileRef).map((f) => ({ secretId: f.id, secretName: f.name, fileName: f.fileName, fileMode: f.fileMode })),
                mounts: [
                    ...p.volumes.map((v) => ({ type: "volume", source: v.source, target: v.target })),
                    ...(p.binds ?? []).map((b) => ({ type: "bind", source: b.source, target: b.target })),
                ],
                stopGracePeriod: p.stopGracePeriod,
                stopSignal: p.stopSignal,
            },
            networksAdvanceds: [{ id: network, aliases: p.aliases }],
            restartPolicy: {
                condition: p.restart.condition,
                delay: p.restart.delay,
                maxAttempts: p.restart.maxAttempts,
                window: p.restart.window,
            },
            placement: {
                constraints: p.constraints,
                ...(p.spread?.length ? { prefs: p.spread } : {}),
                ...(p.maxReplicasPerNode !== undefined ? { maxReplicas: p.maxReplicasPerNode } : {}),
            },
            resources: p.resources && {
                limits: p.resources.limits,
                reservation: p.resources.reservations,
            },
        };
        return spec;
    });
    return {
        name: plan.name,
        labels: plan.labels.apply(toLabels),
        mode: plan.apply((p) => (p.global ? { global: true } : { replicated: { replicas: p.replicas } })),
        endpointSpec: plan.apply((p) => ({
            mode: p.endpointMode,
            ports: p.ports.map((port) => ({ targetPort: port.target, publishedPort: port.published, publishMode: port.mode, protocol: "tcp" })),
        })),
        updateConfig: plan.update.apply(update),
        rollbackConfig: plan.rollback.apply(update),
        // `pulumi up` waits until every task runs (and fails when they do not), like `docker service create` does
        ...(providerWaits ? { convergeConfig: { delay: "5s", timeout: "5m" } } : {}),
        ...(registryAuth
            ? { auth: { serverAddress: registryAuth.server, username: registryAuth.username, password: pulumi.secret(registryAuth.password) } }
            : {}),
        taskSpec,
    };
}

/**
 * One `docker.ServiceConfig` or `docker.Secret` per planned file, named `{component}-{key}`; the swarm name is
 * the content-hashed `file.name`, so new contents create a new object (swarm configs and secrets are immutable)
 * and roll the service that mounts it, and the old one goes after the service moved on.
 * Returns the ids by file key, for `serviceArgsFromPlan`.
 */
export function createSwarmFiles(
    name: string,
    kind: "config" | "secret",
    files: pulumi.Output<SwarmFile[]>,
    keys: string[],
    labels: Record<string, string>,
    parent: pulumi.Resource,
): Record<string, pulumi.Output<string>> {
    const ids: Record<string, pulumi.Output<string>> = {};
    const labelList = toLabels(labels);
    for (const key of keys) {
        const file = files.apply((list) => {
            const found = list.find((f) => f.key === key);
            if (!found) throw new Error(`no planned ${kind} \`${key}\``);
            return found;
        });
        // The name is a truncated sha256 of the contents (see `fileRefs`): plain, so diffs show it.
        const swarmName = pulumi.unsecret(file.name);
        const data = file.contents.apply((contents) => Buffer.from(contents, "utf8").toString("base64"));
        const resource =
            kind === "secret"
                ? new docker.Secret(
                      `${name}-${key}`,
                      { name: swarmName, data: pulumi.secret(data), labels: labelList },
                      { parent, additionalSecretOutputs: ["data"] },
                  )
                : new docker.ServiceConfig(`${name}-${key}`, { name: swarmName, data, labels: labelList }, { parent });
        ids[key] = resource.id;
    }
    return ids;
}

/**
 * Keys and content-hashed names of planned files, without their contents: what a service plan needs. Not
 * secret even when the contents are (a truncated sha256 of a key or password hash reveals nothing), so the
 * service's inputs stay readable in previews.
 */
export function fileRefs(files: pulumi.Output<SwarmFile[]>): pulumi.Output<SwarmFileRef[]> {
    return pulumi.unsecret(files.apply((list) => list.map(({ key, name }) => ({ key, name }))));
}
