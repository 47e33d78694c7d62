import * as pulumi from "@pulumi/pulumi";
import { Credentials } from "../credentials/credentials";
import { isIPv4 } from "../config/checks";
import { isLoopbackHost, swarmRegistryHost } from "../config/swarm";
import { RegistryLogin } from "../image/modelImage";
import { checkSshAgent } from "../swarm/waitForReplicas";
import { swarmGatewayFilePrefix, swarmGatewayOptions, swarmGatewaySettings, swarmModelOptions } from "../render/hubConfigInputs";
import { SwarmGateway } from "../swarm/swarmGateway";
import { SwarmModel } from "../swarm/swarmModel";
import { SwarmNetwork } from "../swarm/swarmNetwork";
import { swarmProvider } from "../swarm/swarmProvider";
import { SwarmRegistry } from "../swarm/swarmRegistry";
import { ServerCertificate } from "../tls/serverCertificate";
import { externalRegistryLogin, gatewayCertificateArgs, gatewayUrl, HubParts, joinRouting, TargetDeployment } from "./hubParts";

/** The user the hub's own swarm registry lets push. */
export const SWARM_REGISTRY_USER = "plumberhub";

/**
 * The swarm side of a ModelHub: a Docker provider for the manager, the overlay network, the registry (a service
 * on the swarm with its own TLS and bcrypt htpasswd, or an external one), one service per model and the gateway.
 */
export function deployOnSwarm(parts: HubParts): TargetDeployment {
    const { name, parent, config, secrets } = parts;
    const { swarm, gateway, registry } = config;
    // A preview asks the manager nothing directly (nor do unit tests' mocks, which have no engine).
    if (!pulumi.runtime.isDryRun() && pulumi.runtime.hasEngine()) checkSshAgent(swarm.host);
    const provider = swarmProvider(
        `${name}-docker`,
        { host: swarm.host, tls: secrets.swarmTls, allowInsecureTcp: swarm.allowInsecureTcp, sshOpts: swarm.sshOpts },
        { parent },
    );
    // Every child below inherits the provider through its parent.
    const opts = (dependsOn: pulumi.Input<pulumi.Resource>[] = []): pulumi.ComponentResourceOptions => ({ parent, providers: [provider], dependsOn });

    const network = new SwarmNetwork(`${name}-network`, { networkName: swarm.network }, opts());

    let login: RegistryLogin;
    const registryDependencies: pulumi.Resource[] = [];
    if (registry.kind === "swarm") {
        const pushers = new Credentials(`${name}-registry-users`, { users: [{ name: SWARM_REGISTRY_USER }] }, { parent });
        // On one node engines pull from the published port on loopback, which Docker treats as an insecure registry
        // (the certificate still encrypts pushes and pulls). With several nodes they pull from the manager's address,
        // which is in the certificate, and every node trusts it (`caCertificate`).
        const registryHost = swarmRegistryHost(registry);
        const onLoopback = isLoopbackHost(registryHost);
        const registryTls = new ServerCertificate(
            `${name}-registry-tls`,
            {
                mode: "selfSigned",
                dnsNames: ["localhost", ...(isIPv4(registryHost) || onLoopback ? [] : [registryHost])],
                ipAddresses: [...new Set(["127.0.0.1", ...(isIPv4(registryHost) ? [registryHost] : [])])],
            },
            { parent },
        );
        const service = new SwarmRegistry(
            `${name}-registry`,
            {
                host: registryHost,
                port: registry.port,
                tlsCertificate: registryTls.certChainPem,
                tlsKey: registryTls.privateKeyPem,
                htpasswd: pushers.registryHtpasswd,
                username: SWARM_REGISTRY_USER,
                password: pushers.passwords.apply((passwords) => passwords[SWARM_REGISTRY_USER]),
                networkId: network.networkId,
                image: swarm.registryImage,
                publishMode: swarm.publishMode,
                endpointMode: swarm.endpointMode,
                // Not the models' constraints: the registry's data volume is on one node, a manager (its default).
                constraints: registry.constraints,
                retainData: config.protectState,
                ...(onLoopback ? {} : { caCertificate: registryTls.caCertPem, dockerHost: swarm.host, dockerTls: secrets.swarmTls }),
            },
            opts(),
        );
        login = service.login;
        registryDependencies.push(service);
    } else {
        login = externalRegistryLogin(registry, secrets);
    }

    const models = config.models.map(
        (model) =>
            new SwarmModel(
                `${name}-${model.name}`,
                {
                    model,
                    // A manager named by `swarm.host` builds the image and pushes it to the registry every node pulls from;
                    // without one the provider is the default engine (DOCKER_HOST or the local one), which builds as usual.
                    image: parts.imageFor(model, login, registryDependencies, swarm.host !== undefined ? provider : undefined),
                    networkId: network.networkId,
                    ...swarmModelOptions(config),
                    dockerHost: swarm.host,
                    dockerTls: secrets.swarmTls,
                    // Nodes that did not build the image pull it with this login; never sent to a prebuilt image's registry.
                    ...(model.image ? {} : { registryAuth: login }),
                },
                opts(),
            ),
    );

    new SwarmGateway(
        `${name}-gateway`,
        {
            networkId: network.networkId,
            // The same settings and options `npm run render` writes into the stack file.
            settings: swarmGatewaySettings(config),
            ...swarmGatewayOptions(config, name),
            filePrefix: swarmGatewayFilePrefix(name),
            ...gatewayCertificateArgs(parts),
            retainAcmeData: config.protectState,
            htpasswd: parts.users.htpasswd,
        },
        // After every model's replicas run: no 404s on the first requests, and when a model cannot start, `pulumi up`
        // stops before the gateway lists it (a half-done gateway change would leave its old configs behind).
        opts(models.map((model) => model.readyReplicas.apply(() => model))),
    );

    return {
        url: pulumi.output(gatewayUrl(gateway.host, gateway.httpsPort)),
        registryLogin: login,
        join: network.networkName.apply((networkName) => ({ network: networkName, ...joinRouting("swarm") })),
    };
}
