// PLUMBERHUB_LOCAL_IMAGES: the switch that makes a stack run the images scripts/build-local-images.sh builds from
// Debian packages (for machines that cannot pull from Docker Hub), without changing any Pulumi.<stack>.yaml.
import { SWARM_NODE_IMAGE } from "../helpers/swarmCluster";
import * as fs from "fs";
import * as path from "path";
import { checkStackConfig, LOCAL_IMAGES, localImagesRequested } from "../../components/config";
import { DEFAULT_BASE_IMAGE } from "../../components/render/modelContainer";
import { DEFAULT_GATEWAY_IMAGE } from "../../components/render/gateway";
import { DEFAULT_REGISTRY_IMAGE } from "../../components/render/swarm";
import { configMap, PROJECT_DIR, stackConfig } from "../helpers/stackProgram";

const notSecret = () => false;
const devConfig = (localImages: boolean, overrides: Record<string, unknown> = {}) =>
    checkStackConfig({ ...stackConfig("dev"), ...configMap(overrides) }, notSecret, PROJECT_DIR, { localImages }).config;

describe("localImagesRequested", () => {
    test.each(["1", "true"])("%s asks for the local images", (value) => {
        expect(localImagesRequested({ PLUMBERHUB_LOCAL_IMAGES: value })).toBe(true);
    });

    test.each([undefined, "", "0", "false"])("%s does not", (value) => {
        expect(localImagesRequested({ PLUMBERHUB_LOCAL_IMAGES: value })).toBe(false);
    });

    test("any other value is refused, naming the variable and what it takes", () => {
        expect(() => localImagesRequested({ PLUMBERHUB_LOCAL_IMAGES: "yes" })).toThrow(
            'environment variable `PLUMBERHUB_LOCAL_IMAGES` must be 1 or true (use the local images) or 0, false or empty (do not), got "yes"',
        );
    });
});

describe("with the switch on", () => {
    test("the dev stack builds on the local R image and runs the local nginx and registry", () => {
        const config = devConfig(true);
        expect(config.baseImage).toBe(LOCAL_IMAGES.baseImage);
        expect(config.swarm.gatewayImage).toBe(LOCAL_IMAGES.gatewayImage);
        expect(config.swarm.registryImage).toBe(LOCAL_IMAGES.registryImage);
    });

    test("an image the stack sets itself is kept", () => {
        const config = devConfig(true, {
            "plumberhub:baseImage": "ghcr.io/acme/r:4.4",
            "plumberhub:swarm": { network: "plumberhub-dev", gatewayImage: "nginx:1.27" },
        });
        expect(config.baseImage).toBe("ghcr.io/acme/r:4.4");
        expect(config.swarm.gatewayImage).toBe("nginx:1.27");
        expect(config.swarm.registryImage).toBe(LOCAL_IMAGES.registryImage);
    });
});

test("with the switch off the stack keeps the pinned public defaults", () => {
    const config = devConfig(false);
    expect(config.baseImage ?? DEFAULT_BASE_IMAGE).toBe(DEFAULT_BASE_IMAGE);
    expect(config.swarm.gatewayImage ?? DEFAULT_GATEWAY_IMAGE).toBe(DEFAULT_GATEWAY_IMAGE);
    expect(config.swarm.registryImage ?? DEFAULT_REGISTRY_IMAGE).toBe(DEFAULT_REGISTRY_IMAGE);
});

test("scripts/build-local-images.sh builds exactly these images and the three-node tests' node image", () => {
    const script = fs.readFileSync(path.join(PROJECT_DIR, "scripts/build-local-images.sh"), "utf8");
    const built = /^ALL_IMAGES=\(([^)]*)\)$/m.exec(script)?.[1].split(/\s+/).filter(Boolean);
    expect(built?.sort()).toEqual([...Object.values(LOCAL_IMAGES), SWARM_NODE_IMAGE].sort());
});
