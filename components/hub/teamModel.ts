import * as pulumi from "@pulumi/pulumi";
import { ModelImage, RegistryLogin } from "../image/modelImage";
import { EndpointMode, validateDockerTransport, validateSshOpts } from "../config/swarm";
import { show } from "../config/checks";
import { Model, ModelSpec } from "../config/model";
import { modelTargetProblems, validateModel } from "../config/validateModel";
import { SwarmModel } from "../swarm/swarmModel";
import { DockerTls, swarmProvider } from "../swarm/swarmProvider";
import { loadAksWiring } from "../util/aksTarget";
import { asResourceError } from "../util/errors";
import { modelHost, modelRouting } from "../config/routing";
import { PlatformStack, validatePlatformJoin } from "./platformStack";

export interface TeamModelArgs {
    /**
     * The platform stack's outputs (`readPlatformStack`): where the model joins, the registry login, the kubeconfig.
     * To a platform's ACR the image is pushed as the identity running this stack, which needs AcrPush there
     * (`teamRegistryLogin`).
     */
    platform: PlatformStack;
    /** The model as its team writes it (`ModelSpec`); validated here. Its `name` is its URL prefix on the platform gateway. */
    model: ModelSpec;
    /** Folder the model's relative `path` is resolved against. Default the working directory (the Pulumi project). */
    baseDir?: string;
    /** Base image with R for the build (`BASE_IMAGE`). Default `DEFAULT_BASE_IMAGE`. */
    baseImage?: string;
    /** Folder, relative to the Pulumi project, for the rendered build context. Default `.plumberhub/build`. */
    contextRoot?: string;
    /** Swarm only: Docker endpoint of a swarm manager (`unix://`, `ssh://`, `tcp://`). Default the local engine. */
    dockerHost?: string;
    /** Swarm only: client TLS for a `tcp://` `dockerHost` (required there unless `allowInsecureTcp`). Default none. */
    dockerTls?: DockerTls;
    /** Swarm only: accept a `tcp://` `dockerHost` without TLS, on a network you trust. Default false. */
    allowInsecureTcp?: boolean;
    /** Swarm only: extra `ssh` arguments for an `ssh://` `dockerHost`, e.g. `["-i", "/path/key"]`. Default none. */
    sshOpts?: string[];
    /** Swarm only: `vip` or `dnsrr` (use `dnsrr` where the kernel has no IPVS). Default `vip`. */
    endpointMode?: EndpointMode;
    /** Swarm only: placement constraints. Default none. */
    constraints?: string[];
}

/** The host the platform gateway resolves for `model` on each target: what a team model's service answers to. */
export function serviceHost(platform: Pick<PlatformStack["join"], "target" | "namespace">, model: string): string {
    return modelHost(modelRouting(platform.target, platform.namespace).hostTemplate, model);
}

/**
 * The login a team stack pushes with. To an ACR (`join.registryAuth` `entra`): the team's own Entra ID identity, the
 * one running this stack (`acrPushLogin`, a token minted at every `up`), which needs AcrPush (or Contributor or Owner)
 * on the platform's registry — `az role assignment create --role AcrPush --assignee <team identity> --scope <registry
 * id>`; without it the token exchange or the push fails with HTTP 401/403. The platform's own `registryLogin` is then
 * not used: it is an ACR token of the platform's identity, expired about 3 hours after the platform's last `up`.
 * Otherwise (`password`, or a platform too old to say): the platform's `registryLogin`, kept secret.
 */
export function teamRegistryLogin(platform: PlatformStack, parent: pulumi.Resource): RegistryLogin {
    const { join, registryLogin } = platform;
    if (join.registryAuth === "entra") {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for an ACR: azure-native is an optional peer
        const { acrPushLogin } = loadAksWiring(() => require("../aks/acrRegistry") as typeof import("../aks/acrRegistry"));
        return acrPushLogin(join.registryServer, parent);
    }
    return {
        // From `join` (plain): the login output is secret as a whole, and a secret server would make the image name and
        // digest secret too.
        server: join.registryServer,
        username: registryLogin.apply((login) => login.username),
        password: pulumi.secret(registryLogin.apply((login) => login.password)),
        // The platform's own swarm registry on a non-loopback address: its CA (the nodes trust it already).
        caCertificate: registryLogin.apply((login) => login.caCertificate),
    };
}

/**
 * Checks `TeamModelArgs` before anything is created and returns the validated model. Pure (apart from checking that
 * the model's folder exists); throws naming the field, the bad value and what is valid.
 */
export function validateTeamModelArgs(args: TeamModelArgs): Model {
    const { platform } = args;
    const join = validatePlatformJoin(platform.join, platform.stackName);
    const model = validateModel(args.model, { baseDir: args.baseDir, field: "model" });
    if (platform.modelNames.includes(model.name)) {
        throw new Error(
            `\`model.name\` ${show(model.name)} is already a model of platform stack \`${platform.stackName}\` ` +
                `(its models: ${platform.modelNames.join(", ")}); choose another name`,
        );
    }
    if (model.users !== undefined) {
        throw new Error(
            `\`model.users\` cannot be enforced from a team stack: per-model users live in the platform gateway's config ` +
                `(\`plumberhub:models\` of \`${platform.stackName}\`); leave it out (every gateway user may call the model)`,
        );
    }
    // The platform gateway sends `/{model}/…` to the template's host and port: this component can only create that host.
    const routing = modelRouting(join.target, join.namespace);
    if (join.gatewayNameTemplate !== routing.hostTemplate || join.modelPort !== routing.port) {
        throw new Error(
            `the platform stack \`${platform.stackName}\` routes models to ${show(join.gatewayNameTemplate)} port ${show(join.modelPort)}, ` +
                `but a ${join.target} model here answers to ${show(routing.hostTemplate)} port ${routing.port}; the platform's plumberhub version does not match this one`,
        );
    }
    // A swarm service has no port mapping: the gateway connects to the port the model listens on.
    if (join.target === "swarm" && model.port !== join.modelPort) {
        throw new Error(
            `\`model.port\` must be ${join.modelPort} on a swarm platform (the gateway reaches models that join it on that port), got ${show(model.port)}; leave it out`,
        );
    }
    const [unfit] = modelTargetProblems(model, join.target, "`model`");
    if (unfit !== undefined) throw new Error(unfit);
    if (join.target === "aks" && platform.kubeconfig === undefined) {
        throw new Error(`\`platform.kubeconfig\` is required on AKS (the platform stack's \`kubeconfig\` output)`);
    }
    const swarmOnly = (["dockerHost", "dockerTls", "allowInsecureTcp", "sshOpts", "endpointMode", "constraints"] as const).filter(
        (field) => args[field] !== undefined,
    );
    if (join.target !== "swarm" && swarmOnly.length > 0) {
        throw new Error(`\`${swarmOnly[0]}\` only applies to a swarm platform, but platform stack \`${platform.stackName}\` is on ${join.target}`);
    }
    if (join.target === "swarm") {
        validateDockerTransport(
            { host: args.dockerHost, tls: args.dockerTls !== undefined, allowInsecureTcp: args.allowInsecureTcp },
            { host: "dockerHost", tls: "dockerTls", allowInsecureTcp: "allowInsecureTcp" },
        );
        validateSshOpts(args.dockerHost, args.sshOpts, { host: "dockerHost", sshOpts: "sshOpts" });
    }
    return model;
}

/**
 * One team's model next to a platform's gateway, from another stack: builds the image and pushes it to the
 * platform's registry (`teamRegistryLogin`: to an ACR as the team's own identity, else with the platform's login),
 * then runs it where the gateway's DNS routing finds it — a swarm service on the platform's overlay network with the
 * model alias, or a Deployment + Service `model-{model}` in the platform's namespace (through a Kubernetes provider from the platform's kubeconfig). The platform stack is not
 * changed: the gateway routes any model name it can resolve, and only models have such names.
 */
export class TeamModel extends pulumi.ComponentResource {
    /** `https://host/{model}/` on the platform gateway. */
    public readonly url: pulumi.Output<string>;
    /** `https://host/{model}/__docs__/` (Swagger UI). */
    public readonly docsUrl: pulumi.Output<string>;
    /** The image the model runs (pushed digest, or the model's prebuilt `image`). */
    public readonly image: pulumi.Output<string>;
    /** The host the platform gateway resolves for this model (`modelRouting`: the swarm model alias, or `model-{model}.{ns}.svc.cluster.local` on AKS). */
    public readonly serviceHost: pulumi.Output<string>;

    constructor(name: string, args: TeamModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:hub:TeamModel", name, {}, opts);
        const model = asResourceError(this, () => validateTeamModelArgs(args));
        const { join } = args.platform;
        const onSwarm = join.target === "swarm";
        // On swarm the image is built by, and the service runs on, the manager's engine.
        const docker = onSwarm
            ? swarmProvider(
                  `${name}-docker`,
                  { host: args.dockerHost, tls: args.dockerTls, allowInsecureTcp: args.allowInsecureTcp, sshOpts: args.sshOpts },
                  { parent: this },
              )
            : undefined;
        const childOpts: pulumi.ComponentResourceOptions = { parent: this, ...(docker ? { providers: [docker] } : {}) };

        const login = teamRegistryLogin(args.platform, this);
        const image = model.image
            ? pulumi.output(model.image)
            : new ModelImage(
                  name,
                  {
                      model,
                      registry: login,
                      // A remote manager builds the image itself (the provider's BuildKit path would build here).
                      buildOnRemoteEngine: onSwarm && args.dockerHost !== undefined,
                      baseImage: args.baseImage,
                      contextRoot: args.contextRoot,
                  },
                  childOpts,
              ).repoDigest;

        if (onSwarm) {
            new SwarmModel(
                name,
                // Docker resolves a network name as well as an id; the platform exports the name.
                {
                    model,
                    image,
                    networkId: join.network!,
                    endpointMode: args.endpointMode,
                    constraints: args.constraints,
                    dockerHost: args.dockerHost,
                    dockerTls: args.dockerTls,
                    // Nodes that did not build the image pull it with this login (none for a prebuilt public image).
                    ...(model.image ? {} : { registryAuth: login }),
                },
                childOpts,
            );
        } else {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on AKS: its SDKs are optional peers
            const { deployTeamModelOnAks } = loadAksWiring(() => require("./aksTeamModel") as typeof import("./aksTeamModel"));
            deployTeamModelOnAks(name, model, image, args.platform, this);
        }

        const base = join.gatewayUrl.endsWith("/") ? join.gatewayUrl : `${join.gatewayUrl}/`;
        this.url = pulumi.output(`${base}${model.name}/`);
        this.docsUrl = pulumi.output(`${base}${model.name}/__docs__/`);
        this.image = image;
        this.serviceHost = pulumi.output(serviceHost(join, model.name));
        this.registerOutputs({ url: this.url, docsUrl: this.docsUrl, image: this.image, serviceHost: this.serviceHost });
    }
}
