/**
 * `npm run bench:program` — does evaluating the stack program stay linear in the number of models?
 *
 * Evaluates the real stack program (`index.ts`) under the same Pulumi mocks as test/unit/program.test.ts, with the
 * dev config (swarm) and the prod config (AKS), each with its model list replaced by N generated models, for N = 1,
 * 10, 100 and 200, BENCH_REPS times each (default 5; 1 and 10 five times per repetition), sizes interleaved per repetition, all in one process: index.ts
 * is dropped from the require cache and required again for each run (the components stay loaded, as in one
 * `pulumi preview`). A run's time is from requiring index.ts until every output resolved and the mock monitor
 * answered every registration. Per-model cost at N is the marginal cost (median time at N − median time at 1) / (N − 1):
 * dividing the whole time by N would hide a super-linear part behind the fixed cost of the gateway, registry and
 * TLS (≈ 0.2–0.4 s, which alone makes total/N fall with N). Prints each run, the medians with their spread and the
 * per-model cost per size and target, and last `program_scaling_ratio=<per-model cost at 200 / at 10>` (the worse of
 * the two targets). Exits 1 above 1.5.
 *
 * The generated models alternate between building from examples/models/hello (`path`: ModelImage stages a build
 * context per model under .plumberhub/build and hashes it — part of every real preview, so it is measured) and a
 * prebuilt image pinned by digest (no staging). The bench's staged contexts (`bench-*`) are removed at the end.
 *
 * Environment: BENCH_REPS (default 5), BENCH_SIZES (default 1,10,100,200).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_CONTEXT_ROOT } from "../components/image/buildContext";
import { installRecordingMocks, promiseOf } from "../test/helpers/pulumiMocks";
import { configMap, PROJECT_DIR, PROVIDER_CALLS, PROVIDER_OUTPUTS } from "../test/helpers/stackProgram";
import { parse } from "yaml";
import { median } from "./median";

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,200").split(",").map(Number);
const TARGET = 1.5;
const PREFIX = "bench-";

// Internal to the SDK (not in its typings): resolves once every RPC sent to the (mock) monitor has been answered.
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

/** `count` models: even ones built from the hello example, odd ones a prebuilt image by digest. */
function generatedModels(count: number, registry: string): Record<string, unknown>[] {
    return Array.from({ length: count }, (_, i) => {
        const name = `${PREFIX}${String(i + 1).padStart(3, "0")}`;
        return i % 2 === 0
            ? { name, path: "examples/models/hello" }
            : { name, image: `${registry}/${name}@sha256:${i.toString(16).padStart(64, "0")}` };
    });
}

function stackFile(stack: string): Record<string, unknown> {
    return (parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
}

const recorded = installRecordingMocks(PROVIDER_OUTPUTS, PROVIDER_CALLS);
const programPath = require.resolve(path.join(PROJECT_DIR, "index"));

/** One evaluation of index.ts with `config`; returns milliseconds and the number of resources registered. */
async function evaluate(config: Record<string, unknown>): Promise<{ ms: number; resources: number }> {
    recorded.length = 0;
    pulumi.runtime.setAllConfig(configMap(config));
    delete require.cache[programPath];
    // Start each run from a collected heap, so one run's garbage is not charged to the next (`node --expose-gc`).
    (globalThis as { gc?: () => void }).gc?.();
    const start = process.hrtime.bigint();
    const exported = require(programPath) as Record<string, pulumi.Output<unknown>>;
    await Promise.all(Object.values(exported).map((output) => promiseOf(output)));
    await waitForRPCs();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { ms, resources: recorded.length };
}

async function main(): Promise<number> {
    process.chdir(PROJECT_DIR);
    const targets = {
        swarm: { config: stackFile("dev"), registry: "127.0.0.1:5000" },
        aks: { config: stackFile("prod"), registry: "plumberhubab12cd34.azurecr.io" },
    };
    const runs: Record<string, Record<number, number[]>> = { swarm: {}, aks: {} };
    try {
        // One warm-up run per target: loads the components and the providers' SDKs.
        for (const { config, registry } of Object.values(targets)) await evaluate({ ...config, "plumberhub:models": generatedModels(2, registry) });
        for (let rep = 1; rep <= REPS; rep++) {
            for (const [target, { config, registry }] of Object.entries(targets)) {
                for (const size of SIZES) {
                    // Small programs run 5 times per repetition: their ±50 ms noise would otherwise dominate the
                    // marginal cost at 10, which is a difference of two small times.
                    for (let i = 0; i < (size <= 10 ? 5 : 1); i++) {
                        const { ms, resources } = await evaluate({ ...config, "plumberhub:models": generatedModels(size, registry) });
                        (runs[target][size] ??= []).push(ms);
                        console.log(`rep ${rep} ${target} models=${size}: ${ms.toFixed(1)} ms, ${resources} resources`);
                    }
                }
            }
        }
    } finally {
        const root = path.join(PROJECT_DIR, DEFAULT_CONTEXT_ROOT);
        for (const entry of fs.existsSync(root) ? fs.readdirSync(root) : []) {
            if (entry.startsWith(PREFIX)) fs.rmSync(path.join(root, entry), { recursive: true, force: true });
        }
    }

    const ratios: number[] = [];
    for (const [target, bySize] of Object.entries(runs)) {
        const base = median(bySize[1]);
        const perModel: Record<number, number> = {};
        for (const size of SIZES) {
            const times = bySize[size];
            // Marginal cost: what the models add on top of the one-model program (gateway, registry, TLS, provider).
            if (size > 1) perModel[size] = (median(times) - base) / (size - 1);
            console.log(
                `${target} models=${size}: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}, n=${times.length})` +
                    (size > 1 ? `, per model ${perModel[size].toFixed(2)} ms` : ""),
            );
        }
        if (perModel[200] !== undefined && perModel[10] !== undefined) {
            const ratio = perModel[200] / perModel[10];
            console.log(`${target}_scaling_ratio=${ratio.toFixed(2)}`);
            ratios.push(ratio);
        }
    }
    if (ratios.length === 0) {
        console.log("program_scaling_ratio=n/a (BENCH_SIZES must include 1, 10 and 200)");
        return 1;
    }
    const worst = Math.max(...ratios);
    console.log(`program_scaling_ratio=${worst.toFixed(2)}`);
    return worst <= TARGET ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
