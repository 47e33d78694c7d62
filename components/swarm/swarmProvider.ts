import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { validateDockerHost } from "../config/swarm";

export interface SwarmProviderArgs {
    /**
     * Docker endpoint of a swarm manager: `unix:///var/run/docker.sock`, `ssh://user@manager[:port]` or
     * `tcp://manager:2376`. Default: the local engine (`DOCKER_HOST` or the local socket).
     */
    host?: string;
    /** Extra `ssh` options for an `ssh://` host, e.g. `["-o", "StrictHostKeyChecking=yes"]`. Default none. */
    sshOpts?: string[];
}

/** Checks `SwarmProviderArgs`; throws naming the field. */
export function validateSwarmProviderArgs(args: SwarmProviderArgs): void {
    if (args.host !== undefined) validateDockerHost(args.host, "host");
    if (args.sshOpts !== undefined && (args.host === undefined || !args.host.startsWith("ssh://"))) {
        throw new Error("`sshOpts` only applies to an `ssh://` host, got host " + JSON.stringify(args.host));
    }
}

/**
 * The Docker provider the swarm components use (pass it as `{ provider }` or `{ providers: [provider] }`).
 * A provider is a custom resource, not a component: this is a checked constructor for it.
 */
export function swarmProvider(name: string, args: SwarmProviderArgs = {}, opts?: pulumi.CustomResourceOptions): docker.Provider {
    validateSwarmProviderArgs(args);
    return new docker.Provider(name, { host: args.host, sshOpts: args.sshOpts }, opts);
}
