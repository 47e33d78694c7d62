/** Opens the engine a deployed stack runs its models on (`ModelEngine`): swarm manager or AKS cluster. */
import { dockerClient } from "../components/swarm/waitForReplicas";
import type { DeployedStack } from "./deployedStack";
import type { ModelEngine } from "./modelEngine";
import { SwarmModelEngine } from "./swarmEngine";

/** The engine of `stack`: its swarm manager (`plumberhub:swarm.host`, else `DOCKER_HOST`, else the local socket) or its AKS cluster. */
export function openModelEngine(stack: DeployedStack): ModelEngine {
    if (stack.config.target === "swarm") {
        const host = stack.config.swarm.host;
        const where = `the Docker engine at ${host ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}`;
        return new SwarmModelEngine(dockerClient(host, stack.swarmTls), where);
    }
    if (!stack.kubeconfig) throw new Error(`stack ${stack.facts.stack} has no \`kubeconfig\` output: run \`pulumi up --stack ${stack.facts.stack}\``);
    // ESM-only and AKS-only: loaded here, so a swarm stack never needs it (and jest on Node < 24.9 cannot load it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KubernetesModelEngine } = require("./kubernetesEngine") as typeof import("./kubernetesEngine");
    return new KubernetesModelEngine(stack.kubeconfig, stack.config.aks.namespace);
}
