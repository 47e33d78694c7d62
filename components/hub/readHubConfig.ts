import * as pulumi from "@pulumi/pulumi";
import { HubConfig, HubSecretKey } from "../config/environment";
import type { DockerTls } from "../swarm/swarmProvider";
import { checkStackConfig, localImagesRequested, swarmTlsSecrets } from "../config/stackConfig";

/** The secret config values, each already a `pulumi.secret`. Only the keys that are set are present. */
export interface HubSecrets {
    /** `plumberhub:userPasswords`: passwords chosen by the users (by user name); others are generated. */
    userPasswords?: Record<string, pulumi.Output<string>>;
    /** `plumberhub:registryPassword`: push password of an external registry. */
    registryPassword?: pulumi.Output<string>;
    /** `plumberhub:tlsCertificate`: PEM chain for `tls: provided`. */
    tlsCertificate?: pulumi.Output<string>;
    /** `plumberhub:tlsKey`: PEM key for `tls: provided`. */
    tlsKey?: pulumi.Output<string>;
    /** `plumberhub:kubeconfig`: kubeconfig of an existing cluster (`aks.existingCluster: true`). */
    kubeconfig?: pulumi.Output<string>;
    /** `plumberhub:swarmTlsCaCertificate`, `swarmTlsCertificate`, `swarmTlsKey`: mutual TLS with a `tcp://` swarm manager. */
    swarmTls?: DockerTls;
}

/**
 * Whether a key was set with `--secret`: the SDK's own check (used by `Config.get` to warn). It has no public API, so
 * a missing one fails loudly instead of letting plain-text secrets through; the engine tests run it for real.
 */
function isConfigSecret(key: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    if (typeof check !== "function") {
        throw new Error(
            "this @pulumi/pulumi has no runtime.isConfigSecret: plumberhub cannot tell secret config from plain text; use the version in its package.json",
        );
    }
    return check(key);
}

/**
 * Reads every `plumberhub:*` key of the stack, validates all of them at once (`checkStackConfig`) and returns the
 * plan and the secrets. `PLUMBERHUB_LOCAL_IMAGES=1` in the environment fills in `LOCAL_IMAGES` where the stack
 * sets no image. Throws a `HubConfigError` naming each bad key before any resource exists. Secret values
 * are never put in a message.
 */
export function readHubConfig(baseDir: string = process.cwd()): { config: HubConfig; secrets: HubSecrets } {
    const { config, secretValues, userPasswords } = checkStackConfig(pulumi.runtime.allConfig(), isConfigSecret, baseDir, {
        localImages: localImagesRequested(process.env),
    });
    const swarmTls = swarmTlsSecrets(secretValues);
    const secret = (key: HubSecretKey) => (secretValues[key] === undefined ? {} : { [key]: pulumi.secret(secretValues[key]) });
    const secrets: HubSecrets = {
        ...(userPasswords
            ? { userPasswords: Object.fromEntries(Object.entries(userPasswords).map(([user, password]) => [user, pulumi.secret(password)])) }
            : {}),
        ...secret("registryPassword"),
        ...secret("tlsCertificate"),
        ...secret("tlsKey"),
        ...secret("kubeconfig"),
        ...(swarmTls
            ? {
                  swarmTls: {
                      caCertificate: pulumi.secret(swarmTls.caCertificate),
                      certificate: pulumi.secret(swarmTls.certificate),
                      key: pulumi.secret(swarmTls.key),
                  },
              }
            : {}),
    };
    return { config, secrets };
}
