/**
 * The AKS gateway's rendered ConfigMap and Secrets, "mounted" in a temp folder the way the pod mounts them
 * (same layout, only the mount root and /tmp moved into the folder), checked by Debian's real `nginx -t`.
 */
import * as fs from "fs";
import * as path from "path";
import { KUBERNETES_GATEWAY_PATHS, renderKubernetesManifests } from "../../components/render/kubernetes";
import { GATEWAY_DEFAULTS } from "../../components/render/gateway";
import { Model } from "../../components/config/model";
import { makeTls, nginxTest, tempDir, writeHtpasswd } from "../helpers/gateway";
import { findObject } from "../helpers/kubernetesSchema";
import { testModel } from "../helpers/models";

jest.setTimeout(120_000);

const models: Model[] = [testModel("hello"), testModel("bos-rf", { users: ["alice"] }), testModel("iris")];

const MOUNT_ROOT = path.dirname(KUBERNETES_GATEWAY_PATHS.tls); // /etc/nginx/plumberhub

const find = findObject;

/** Writes the gateway's ConfigMap and Secrets like the pod's volumes; returns the nginx.conf path. */
async function mountGateway(dir: string, edit: (conf: string) => string = (c) => c): Promise<string> {
    const tls = await makeTls(dir);
    writeHtpasswd(path.join(dir, "htpasswd"), { alice: "placeholder-password" });
    const objects = renderKubernetesManifests({
        namespace: "models",
        models,
        images: Object.fromEntries(models.map((m) => [m.name, `acr.example/${m.name}@sha256:${"d".repeat(64)}`])),
        gateway: {
            tlsCert: fs.readFileSync(tls.certificatePath, "utf8"),
            tlsKey: fs.readFileSync(tls.keyPath, "utf8"),
            htpasswd: fs.readFileSync(path.join(dir, "htpasswd"), "utf8"),
        },
    });
    const config: Record<string, string> = find(objects, "ConfigMap", "gateway-config").data;
    const mount = path.join(dir, "mnt");
    const secretFiles = (name: string, folder: string): [string, string][] =>
        Object.entries(find(objects, "Secret", name).stringData as Record<string, string>).map(([k, v]) => [path.join(mount, folder, k), v]);
    const files: Record<string, string> = {
        [path.join(mount, "site", "index.html")]: config["site-index.html"],
        ...Object.fromEntries([...secretFiles("gateway-tls", "tls"), ...secretFiles("gateway-htpasswd", "auth")]),
    };
    for (const [file, contents] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
        fs.writeFileSync(file, contents, { mode: 0o644 });
    }
    const conf = edit(config["nginx.conf"])
        .split(MOUNT_ROOT)
        .join(mount)
        .replace(`pid ${GATEWAY_DEFAULTS.pidFile};`, `pid ${dir}/nginx.pid;`)
        .replace(/_temp_path \/tmp\//g, `_temp_path ${dir}/tmp/`)
        // A pod's /dev/stdout is the container log; a test process's may be a socket nginx cannot open.
        .replace(/access_log \/dev\/stdout/g, `access_log ${dir}/access.log`);
    expect(conf).not.toContain(MOUNT_ROOT);
    const confPath = path.join(dir, "nginx.conf");
    fs.writeFileSync(confPath, conf);
    return confPath;
}

describe("AKS gateway config under real nginx", () => {
    test("the rendered ConfigMap's nginx.conf passes nginx -t with the mounted certificate and htpasswd", async () => {
        const dir = tempDir("plumberhub-aks-gateway-");
        const stderr = await nginxTest(dir, await mountGateway(dir));
        expect(stderr).toContain("test is successful");
    });

    test("nginx -t fails when the mounted key is missing, so the check above is real", async () => {
        const dir = tempDir("plumberhub-aks-gateway-");
        const conf = await mountGateway(dir);
        fs.rmSync(path.join(dir, "mnt", "tls", "tls.key"));
        await expect(nginxTest(dir, conf)).rejects.toThrow(`cannot load certificate key "${path.join(dir, "mnt", "tls", "tls.key")}"`);
    });
});
