/**
 * `npm run bench:engine` — the dev stack under the real Pulumi engine (scripts/get-engine.sh), on the local swarm.
 *
 * 1. Cold `pulumi up` of the dev stack (both example models, registry, gateway) from an empty state, images already
 *    built (the first round builds them and is reported apart; later rounds find every layer in Docker's cache), then
 *    `pulumi destroy`; BENCH_UP_ROUNDS rounds (default 2).
 * 2. A no-op `pulumi preview` of that stack, BENCH_PREVIEWS times (default 5).
 * 3. Scaling: the same platform with 0, 2 and 20 models (copies of examples/models/hello with small CPU and memory
 *    reservations so 20 fit on two cores), each deployed, previewed BENCH_PREVIEWS times with no change, destroyed.
 *    Per-model cost at N is the marginal cost (median preview at N − median preview at 0) / N: the whole time / N
 *    would hide a super-linear part behind the fixed cost of the platform (providers, TLS, registry, gateway).
 *    `engine_preview_scaling_ratio` = per-model cost at 20 / per-model cost at 2; the goal is ≤ 1.3 (linear).
 *
 * Everything runs in a copy of the project in a temporary folder with a file backend there; the swarm must hold no
 * plumberhub stack. Prints each timing and, last, `engine_preview_scaling_ratio=<r>`; exits 1 above 1.3.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { LOCAL_IMAGES } from "../components/config/stackConfig";
import { copyProject, hubObjects, PulumiProject } from "../test/helpers/engine";
import { ensureLocalImages, ensureSwarm } from "../test/helpers/swarm";
import { median } from "./median";

const UP_ROUNDS = Number(process.env.BENCH_UP_ROUNDS ?? 2);
const PREVIEWS = Number(process.env.BENCH_PREVIEWS ?? 5);
const SIZES = [0, 2, 20];
const TARGET = 1.3;

async function seconds(what: () => Promise<unknown>): Promise<number> {
    const started = process.hrtime.bigint();
    await what();
    return Number(process.hrtime.bigint() - started) / 1e9;
}

const fmt = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");

/** `Pulumi.<stack>.yaml` of the dev stack with `count` models built from the hello example. */
function writeScaledStack(dir: string, stack: string, count: number): void {
    const { config } = parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    config["plumberhub:models"] = Array.from({ length: count }, (_, i) => ({
        name: `m${String(i + 1).padStart(2, "0")}`,
        path: "examples/models/hello",
        cpu: { request: "10m", limit: "500m" },
        memory: { request: "64Mi", limit: "256Mi" },
    }));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config }));
}

async function main(): Promise<void> {
    await ensureSwarm();
    await ensureLocalImages(Object.values(LOCAL_IMAGES));
    const before = await hubObjects();
    if (before.length > 0) throw new Error(`this Docker engine already runs a plumberhub stack (${before.join(", ")}): destroy it first`);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-bench-engine-"));
    const project = new PulumiProject(
        copyProject(path.join(work, "project"), { withoutTests: true }),
        path.join(work, "state"),
        crypto.randomBytes(24).toString("base64"),
    );
    const stack = (name: string) => ["--stack", name];
    try {
        // 1. cold up of the dev stack
        await project.pulumi(["stack", "init", ...stack("dev")]);
        const ups: number[] = [];
        for (let round = 0; round <= UP_ROUNDS; round++) {
            const up = await seconds(() => project.pulumi(["up", "--yes", "--skip-preview", ...stack("dev")]));
            if (round === 0) console.log(`first pulumi up (builds the two images): ${up.toFixed(1)} s`);
            else ups.push(up);
            // 2. no-op previews, on the first deployment with warm images
            if (round === 1) {
                const previews: number[] = [];
                for (let i = 0; i < PREVIEWS; i++)
                    previews.push(await seconds(() => project.pulumi(["preview", "--expect-no-changes", ...stack("dev")])));
                console.log(`no-op pulumi preview of the dev stack: ${fmt(previews)} s, median ${median(previews).toFixed(2)} s`);
            }
            if (round < UP_ROUNDS) await project.pulumi(["destroy", "--yes", "--skip-preview", ...stack("dev")]);
        }
        console.log(`cold pulumi up of the dev stack, images built: ${fmt(ups)} s, median ${median(ups).toFixed(1)} s`);
        await project.pulumi(["destroy", "--yes", "--skip-preview", ...stack("dev")]);

        // 3. no-op preview at 0, 2 and 20 models
        const medians: Record<number, number> = {};
        for (const count of SIZES) {
            const name = `scale${count}`;
            writeScaledStack(project.dir, name, count);
            await project.pulumi(["stack", "init", ...stack(name)]);
            await project.pulumi(["up", "--yes", "--skip-preview", ...stack(name)], 40 * 60_000);
            const previews: number[] = [];
            for (let i = 0; i < PREVIEWS; i++) previews.push(await seconds(() => project.pulumi(["preview", "--expect-no-changes", ...stack(name)])));
            medians[count] = median(previews);
            console.log(`no-op preview with ${count} models: ${fmt(previews)} s, median ${medians[count].toFixed(2)} s`);
            await project.pulumi(["destroy", "--yes", "--skip-preview", ...stack(name)], 20 * 60_000);
        }
        const perModel = (count: number) => (medians[count] - medians[0]) / count;
        console.log(
            `per-model cost of a no-op preview: ${(perModel(2) * 1000).toFixed(0)} ms at 2 models, ${(perModel(20) * 1000).toFixed(0)} ms at 20`,
        );
        if (perModel(2) <= 0) throw new Error("2 models previewed no slower than none: the difference is below the noise; raise BENCH_PREVIEWS");
        const ratio = perModel(20) / perModel(2);
        console.log(`engine_preview_scaling_ratio=${ratio.toFixed(2)}`);
        if (ratio > TARGET) process.exitCode = 1;
    } finally {
        for (const name of ["dev", ...SIZES.map((count) => `scale${count}`)]) {
            await project.pulumi(["destroy", "--yes", "--skip-preview", ...stack(name)]).catch(() => undefined);
        }
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
