import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Model } from "../spec/model";
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
    /** Build during `pulumi preview` too, so a broken model fails the pull request. Default false. */
    buildOnPreview?: boolean;
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
 * `model/`), tags it with the context's content hash and pushes it. Same content → same tag → no diff; any change
 * in the model's folder → a new tag and a new `repoDigest`, which rolls the deployments that use it.
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
        const imageName = pulumi.interpolate`${args.registry.server}/${args.repository ?? model.name}:${tag}`;

        const image = new docker.Image(
            `${name}-image`,
            {
                imageName,
                build: {
                    context: contextPath,
                    dockerfile: path.join(contextPath, "Dockerfile"),
                    args: { BASE_IMAGE: baseImage },
                    platform,
                },
                registry: {
                    server: args.registry.server,
                    username: args.registry.username,
                    password: pulumi.secret(args.registry.password),
                },
                buildOnPreview: args.buildOnPreview ?? false,
            },
            { parent: this },
        );

        this.imageName = image.imageName;
        this.repoDigest = image.repoDigest;
        this.tag = pulumi.output(tag);
        this.registerOutputs({ imageName: this.imageName, repoDigest: this.repoDigest, tag: this.tag });
    }
}
