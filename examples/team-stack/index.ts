// A model team's stack: one more model (models/iris) behind the plumberhub platform's gateway, without any change
// to the platform stack. The platform's outputs (`join`, `models`, `registryLogin`, `kubeconfig`) are read with a
// StackReference; the platform's target (swarm or AKS) decides what is created, so the program is an async function
// that reads them first.
//
// Config (all `team:`): `platformStack` (required, e.g. organization/plumberhub/dev), `modelName` (default iris),
// and on swarm `dockerHost` (default the local engine) and `endpointMode` (`vip` | `dnsrr`, default vip);
// `baseImage` (default plumberhub's pinned R image, or LOCAL_IMAGES.baseImage with PLUMBERHUB_LOCAL_IMAGES=1, as for
// the platform).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { EndpointMode, LOCAL_IMAGES, localImagesRequested, readPlatformStack, TeamModel } from "plumberhub";

export = async () => {
    const config = new pulumi.Config("team");
    const platform = await readPlatformStack(config.require("platformStack"));
    const iris = new TeamModel("iris", {
        platform,
        model: { name: config.get("modelName") ?? "iris", path: path.join(__dirname, "models", "iris"), replicas: 1 },
        baseImage: config.get("baseImage") ?? (localImagesRequested(process.env) ? LOCAL_IMAGES.baseImage : undefined),
        dockerHost: config.get("dockerHost"),
        endpointMode: config.get<EndpointMode>("endpointMode"),
    });
    return { url: iris.url, docsUrl: iris.docsUrl, image: iris.image };
};
