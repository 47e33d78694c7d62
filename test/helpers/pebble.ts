/**
 * Debian's `pebble` (Let's Encrypt's test ACME server) and `pebble-challtestsrv` (the DNS server pebble asks) in a
 * container on a Docker network the test made: the host's binaries mounted into the local nginx image (no image to
 * pull). The ACME API is https on `PEBBLE_PORTS.acme` under the container's name; pebble validates HTTP-01 on port 80
 * of whatever address `resolve` gave the name. No authorization is reused, so every order proves the name again.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitUntil } from "./processes";
import { BASE_IMAGES, docker } from "./swarm";

/** Pebble's API and management ports, and challtestsrv's management port, inside the container. */
export const PEBBLE_PORTS = Object.freeze({ acme: 14000, management: 15000, dnsManagement: 8055 });

export class Pebble {
    private constructor(
        /** Container name, also its DNS name on the network. */
        readonly name: string,
        /** The CA of pebble's own TLS certificate (its API is https only): what an ACME client must trust. */
        readonly caPem: string,
    ) {}

    /** Starts pebble as `name` on `network`, with its files under `workDir`; waits until its directory answers. */
    static async start(name: string, network: string, workDir: string): Promise<Pebble> {
        const dir = path.join(workDir, "pebble");
        fs.mkdirSync(dir, { recursive: true });
        // prettier-ignore
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${name}`,
            "-addext", `subjectAltName=DNS:${name}`, "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
        ], { stdio: "ignore" });
        const config = {
            pebble: {
                listenAddress: `0.0.0.0:${PEBBLE_PORTS.acme}`,
                managementListenAddress: `127.0.0.1:${PEBBLE_PORTS.management}`,
                certificate: "/pebble/cert.pem",
                privateKey: "/pebble/key.pem",
                // HTTP-01 validation connects to port 80 of the name, as a real ACME server does.
                httpPort: 80,
                tlsPort: 443,
                ocspResponderURL: "",
                externalAccountBindingRequired: false,
            },
        };
        fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
        fs.chmodSync(dir, 0o755);
        fs.chmodSync(path.join(dir, "key.pem"), 0o644);
        // prettier-ignore
        await docker([
            "run", "--detach", "--name", name, "--network", network, "--network-alias", name,
            "--env", "PEBBLE_VA_NOSLEEP=1", "--env", "PEBBLE_WFE_NONCEREJECT=0", "--env", "PEBBLE_AUTHZREUSE=0",
            "--volume", "/usr/bin/pebble:/usr/bin/pebble:ro", "--volume", "/usr/bin/pebble-challtestsrv:/usr/bin/pebble-challtestsrv:ro",
            "--volume", `${dir}:/pebble:ro`, BASE_IMAGES.nginx,
            "sh", "-c",
            // Names nobody set resolve to pebble's own loopback, where nothing answers on port 80.
            "pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 '' -http01 '' -https01 '' -tlsalpn01 '' -dns01 127.0.0.1:8053 " +
                `-management 127.0.0.1:${PEBBLE_PORTS.dnsManagement} & exec pebble -config /pebble/config.json -dnsserver 127.0.0.1:8053`,
        ]);
        const pebble = new Pebble(name, fs.readFileSync(path.join(dir, "cert.pem"), "utf8"));
        await waitUntil(
            "pebble answers",
            async () => (await pebble.exec(`curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:${PEBBLE_PORTS.acme}/dir || true`)) === "200",
            30_000,
            500,
        );
        return pebble;
    }

    /** The ACME directory, as containers on the network reach it. */
    get directoryUrl(): string {
        return `https://${this.name}:${PEBBLE_PORTS.acme}/dir`;
    }

    /** Runs a shell command in the container; its stdout. */
    async exec(command: string): Promise<string> {
        return (await docker(["exec", this.name, "sh", "-c", command])).stdout;
    }

    /** Makes `domain` resolve to `address` only, for pebble's validations. */
    async resolve(domain: string, address: string): Promise<void> {
        const api = `http://127.0.0.1:${PEBBLE_PORTS.dnsManagement}`;
        await this.exec(`curl -fsS -X POST -d '${JSON.stringify({ host: domain })}' ${api}/clear-a`);
        await this.exec(`curl -fsS -X POST -d '${JSON.stringify({ host: domain, addresses: [address] })}' ${api}/add-a`);
    }

    /** The container's address on `network`. */
    async address(network: string): Promise<string> {
        return (await docker(["inspect", "--format", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, this.name])).stdout.trim();
    }

    /** The root that signs the certificates pebble issues (new on every start). */
    async issuerRoot(): Promise<string> {
        return this.exec(`curl -fsSk https://127.0.0.1:${PEBBLE_PORTS.management}/roots/0`);
    }

    /** Pebble's log. */
    async log(): Promise<string> {
        const { stdout, stderr } = await docker(["logs", this.name]);
        return stdout + stderr;
    }

    /** How many orders pebble has taken so far. */
    async orders(): Promise<number> {
        return (await this.log()).match(/Added order/g)?.length ?? 0;
    }

    /** Removes the container `name`, if any. */
    static async remove(name: string): Promise<void> {
        await docker(["rm", "--force", name]).catch(() => undefined);
    }
}
