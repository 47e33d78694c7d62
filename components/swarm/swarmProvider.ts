import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { validateDockerHost, validateDockerTransport, validateSshOpts } from "../config/swarm";
import type { DockerTlsPem } from "./waitForReplicas";

/** Mutual TLS with a `tcp://` Docker endpoint, as PEM texts; each is treated as a secret. */
export interface DockerTls {
    /** The CA that signed the manager's server certificate (the engine's `--tlscacert`). */
    caCertificate: pulumi.Input<string>;
    /** The client certificate the manager's CA signed (extendedKeyUsage clientAuth). */
    certificate: pulumi.Input<string>;
    /** That certificate's private key. */
    key: pulumi.Input<string>;
}

/** `tls` as plain PEM texts once known (still secret), for the components' own engine API calls; undefined without TLS. */
export function resolveDockerTls(tls: DockerTls | undefined): pulumi.Output<DockerTlsPem | undefined> {
    if (tls === undefined) return pulumi.output(undefined);
    return pulumi.secret(
        pulumi.all([tls.caCertificate, tls.certificate, tls.key]).apply(([caCertificate, certificate, key]) => ({ caCertificate, certificate, key })),
    );
}

/** How a swarm manager's Docker API is reached: the provider's settings and every direct API call use the same. */
export interface SwarmConnectionArgs {
    /**
     * Docker endpoint of a swarm manager: `unix:///var/run/docker.sock`, `ssh://user@manager[:port]` or
     * `tcp://manager:2376` (with `tls`). Default: the local engine (`DOCKER_HOST` or the local socket).
     */
    host?: string;
    /** Client certificate, key and CA for a `tcp://` host (the engine runs with `--tlsverify`). Required there unless `allowInsecureTcp`. */
    tls?: DockerTls;
    /** Accept a `tcp://` host without `tls`, for a network you trust: whoever reaches that port owns every node. Default false. */
    allowInsecureTcp?: boolean;
}

export interface SwarmProviderArgs extends SwarmConnectionArgs {
    /** Extra `ssh` options for an `ssh://` host, e.g. `["-o", "StrictHostKeyChecking=yes"]`. Default none. */
    sshOpts?: string[];
}

/** Checks how a manager is reached (host, TLS, the insecure opt-out); throws naming the field. */
export function validateSwarmConnectionArgs(args: SwarmConnectionArgs): void {
    if (args.host !== undefined) validateDockerHost(args.host, "host");
    validateDockerTransport(
        { host: args.host, tls: args.tls !== undefined, allowInsecureTcp: args.allowInsecureTcp },
        { host: "host", tls: "tls", allowInsecureTcp: "allowInsecureTcp" },
    );
    if (args.tls !== undefined) {
        for (const part of ["caCertificate", "certificate", "key"] as const) {
            if (args.tls[part] === undefined || args.tls[part] === "") throw new Error(`\`tls.${part}\` is required with \`tls\` (PEM text)`);
        }
    }
}

/** Checks `SwarmProviderArgs`; throws naming the field. */
export function validateSwarmProviderArgs(args: SwarmProviderArgs): void {
    validateSwarmConnectionArgs(args);
    validateSshOpts(args.host, args.sshOpts, { host: "host", sshOpts: "sshOpts" });
}

/**
 * The Docker provider the swarm components use (pass it as `{ provider }` or `{ providers: [provider] }`).
 * A provider is a custom resource, not a component: this is a checked constructor for it. The TLS material is
 * kept as secrets in the state.
 */
export function swarmProvider(name: string, args: SwarmProviderArgs = {}, opts?: pulumi.CustomResourceOptions): docker.Provider {
    validateSwarmProviderArgs(args);
    const tls = args.tls;
    return new docker.Provider(
        name,
        {
            host: args.host,
            sshOpts: args.sshOpts,
            ...(tls
                ? { caMaterial: pulumi.secret(tls.caCertificate), certMaterial: pulumi.secret(tls.certificate), keyMaterial: pulumi.secret(tls.key) }
                : {}),
        },
        opts,
    );
}
