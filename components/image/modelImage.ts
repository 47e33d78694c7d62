import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Model } from "../config/model";
import { isLoopbackHost } from "../config/swarm";
import { asResourceError } from "../util/errors";
import { stageModelImageContext } from "./buildContext";

/** Where and as whom images are pushed. Every registry component outputs one of these. */
export interface RegistryLogin {
    /** Registry host (and port), e.g. `myacr.azurecr.io` or `127.0.0.1:5000`; no scheme. */
    server: pulumi.Input<string>;
    /** User allowed to push. */
    username: pulumi.Input<string>;
    /** That user's password; always treated as a secret. */
    password: pulumi.Input<string>;
    /**
     * PEM CA of a registry whose certificate this machine's trust store does not hold (the hub's own swarm registry).
     * The engines verify the registry with it; the Docker provider has no CA setting for the digest lookup it makes
     * from this machine after a push, so that one request skips verification. Default none: verified as usual.
     */
    caCertificate?: pulumi.Input<string | undefined>;
}

export interface ModelImageArgs {
    /** The validated model (from `validateModel`); it must have a `path` to build from. */
    model: Model;
    /** Registry to push to. */
    registry: RegistryLogin;
    /** Repository inside the registry. Default: the model's name. */
    repository?: string;
    /** Base image with R (the Dockerfile's `BASE_IMAGE` build arg). Default: `DEFAULT_BASE_IMAGE`. */
    baseImage?: string;
    /**
     * Folder, relative to the Pulumi project, that holds the rendered build contexts (one subfolder per model).
     * It must stay the same between runs, or every preview shows a diff. Default `.plumberhub/build`.
     */
    contextRoot?: string;
    /** Target platform. Default `linux/amd64` (what AKS and most swarm nodes run). */
    platform?: string;
    /**
     * Build with the Docker engine's own builder (`POST /build` on the provider's `host`) instead of BuildKit. The
     * Docker provider runs BuildKit through the local Docker CLI's context, whatever its `host` says, so an image for
     * a remote engine — a swarm manager, which then pushes it — would be built on this machine and missing there.
     * Default false (BuildKit on the local engine).
     */
    buildOnRemoteEngine?: boolean;
}

/**
 * Whether the push skips verifying the registry's certificate: only for a registry on loopback, which Docker itself
 * treats as insecure (`127.0.0.0/8` and `localhost` need no trusted certificate) — the hub's own swarm registry with
 * its self-signed certificate. Any other registry is verified.
 */
export function isLoopbackRegistry(server: string): boolean {
    return isLoopbackHost(server.replace(/:\d+$/, ""));
}

/** Checks what must hold before anything is built; throws with the field named. */
export function validateModelImageArgs(args: ModelImageArgs): void {
    if (!args.model.path) {
        throw new Error(
            `\`model.path\` is required to build an image, but model \`${args.model.name}\` has none ` +
                `(it uses the prebuilt image \`${args.model.image}\`; deploy that image directly instead of building it)`,
        );
    }
    if (args.repository !== undefined && !/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(args.repository)) {
        throw new Error(
            `\`repository\` must be a lower-case Docker repository path such as \`models/${args.model.name}\`, got \`${args.repository}\``,
        );
    }
}

/**
 * A model's container image: renders the Dockerfile and entrypoint, stages the build context (model code under
 * `model/`), tags it with the context's content hash, builds it on the local Docker engine and pushes it. Same
 * content → same tag → no diff; any change in the model's folder → a new tag and a new `repoDigest`, which rolls
 * the deployments that use it. The push resource is named after the tag (`{name}-push-{tag}`): a new image is a new
 * push, and the registry login, which may change on every run (an ACR token), never makes a diff by itself. Built with the Docker provider's `RemoteImage` (build) and `RegistryImage` (push):
 * both come from the upstream Terraform provider, so they behave the same with every build of the provider.
 * Pushed images stay in the registry when replaced, so swarm and Kubernetes can still roll back to them.
 */
export class ModelImage extends pulumi.ComponentResource {
    /** `server/repository:tag`, tag = content hash of the build context. */
    public readonly imageName: pulumi.Output<string>;
    /** `server/repository@sha256:…` of the pushed image: what deployments should run. */
    public readonly repoDigest: pulumi.Output<string>;
    /** The content-hash tag alone. */
    public readonly tag: pulumi.Output<string>;

    constructor(name: string, args: ModelImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:image:ModelImage", name, {}, opts);
        asResourceError(this, () => validateModelImageArgs(args));
        const model = args.model;
        const context = stageModelImageContext(model, { baseImage: args.baseImage, platform: args.platform, contextRoot: args.contextRoot });
        const { tag, baseImage, platform } = context;
        // A project-relative context keeps state identical across machines and checkouts.
        const contextPath = path.relative(process.cwd(), context.dir) || ".";
        const repository = pulumi.interpolate`${args.registry.server}/${args.repository ?? model.name}`;

        const built = new docker.RemoteImage(
            `${name}-image`,
            {
                name: pulumi.interpolate`${repository}:${tag}`,
                build: {
                    context: contextPath,
                    dockerfile: "Dockerfile",
                    buildArgs: { BASE_IMAGE: baseImage },
                    platform,
                    ...(args.buildOnRemoteEngine ? { useLegacyBuilder: true } : {}),
                },
                // The tag is a content hash: a new tag replaces this resource, and the old local image may still
                // back a running container, so it is not removed.
                keepLocally: true,
            },
            { parent: this },
        );
        // Named after the tag: a new image is a new push resource, created with the login of this run, and the old
        // one is deleted from the state only (`keepRemotely`). No alias: it would make the new tag replace the old.
        const pushed = new docker.RegistryImage(
            `${name}-push-${tag}`,
            {
                name: built.name,
                authConfig: { address: args.registry.server, username: args.registry.username, password: pulumi.secret(args.registry.password) },
                keepRemotely: true,
                // A yes/no, not secret, though a login read from a platform stack is secret as a whole.
                insecureSkipVerify: pulumi.unsecret(
                    pulumi
                        .all([args.registry.server, args.registry.caCertificate])
                        .apply(([server, ca]) => isLoopbackRegistry(server) || Boolean(ca)),
                ),
            },
            {
                parent: this,
                additionalSecretOutputs: ["authConfig"],
                // The login is used only when the image is pushed, at create; a rotated password or a fresh ACR token
                // (unknown in a preview, new at every up) must not show as a diff on an image already pushed.
                ignoreChanges: ["authConfig"],
            },
        );

        this.imageName = built.name;
        this.repoDigest = pulumi.interpolate`${repository}@${pushed.sha256Digest}`;
        this.tag = pulumi.output(tag);
        this.registerOutputs({ imageName: this.imageName, repoDigest: this.repoDigest, tag: this.tag });
    }
}
