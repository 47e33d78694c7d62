// The GitHub workflows as data: triggers, jobs per environment, least-privilege permissions, OIDC login
// before Pulumi, the PR comment, and no stored secret besides the Pulumi token and GitHub's own token.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const WORKFLOWS = path.resolve(__dirname, "../../.github/workflows");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    if?: string;
    needs?: string | string[];
    environment?: string;
    permissions?: Record<string, string> | string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    env?: Record<string, string>;
    steps: Step[];
}
interface Workflow {
    on: Record<string, any>;
    env?: Record<string, string>;
    permissions?: Record<string, string> | string;
    concurrency?: unknown;
    jobs: Record<string, Job>;
}

function load(file: string): { text: string; workflow: Workflow } {
    const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
    return { text, workflow: parse(text) as Workflow };
}

const preview = load("preview.yml");
const up = load("up.yml");
const both = [
    ["preview.yml", preview],
    ["up.yml", up],
] as const;

/** Does the step run this action (`owner/repo`, whatever version it is pinned to)? */
const runs = (action: string) => (step: Step) => step.uses?.split("@")[0] === action;
const isPulumi = runs("pulumi/actions");
const isAzureLogin = runs("azure/login");
const isKubelogin = runs("azure/use-kubelogin");
/** The token for the AKS server application (Entra ID), fetched while the OIDC login is fresh. */
const isAksToken = (step: Step) => (step.run ?? "").includes("az account get-access-token --resource 6dae42f8-4368-4678-94ff-3960e28e3630");

const pulumiSteps = (job: Job) => job.steps.filter(isPulumi);
const firstIndex = (job: Job, match: (s: Step) => boolean) => job.steps.findIndex(match);
const logsInToAzure = (job: Job) => job.steps.some(isAzureLogin);
const jobsOf = (workflow: Workflow) => Object.entries(workflow.jobs);

/** The stack each job runs Pulumi on (one per job). */
function stackOf(job: Job): string {
    const stacks = pulumiSteps(job).map((s) => String(s.with?.["stack-name"]));
    expect(stacks).toHaveLength(1);
    return stacks[0];
}

describe("triggers", () => {
    test("preview runs on pull requests to main and nothing else", () => {
        expect(preview.workflow.on).toEqual({ pull_request: { branches: ["main"] } });
    });

    test("up runs on pushes to main, weekly on its own (certificate replacements need no deploy) and by hand", () => {
        expect(up.workflow.on).toEqual({ push: { branches: ["main"] }, schedule: [{ cron: "17 3 * * 1" }], workflow_dispatch: null });
    });

    test("every up job is guarded to run only on main", () => {
        for (const [, job] of jobsOf(up.workflow)) expect(job.if).toBe("github.ref == 'refs/heads/main'");
    });
});

describe("jobs per environment", () => {
    test("preview has one job per environment, each previewing its own stack", () => {
        const stacks = jobsOf(preview.workflow).map(([, job]) => stackOf(job));
        expect(stacks.sort()).toEqual(["dev", "prod"]);
        for (const [, job] of jobsOf(preview.workflow)) expect(pulumiSteps(job)[0].with?.command).toBe("preview");
    });

    test("up has one job per environment and prod waits for dev", () => {
        const byStack = Object.fromEntries(jobsOf(up.workflow).map(([id, job]) => [stackOf(job), { id, job }]));
        expect(Object.keys(byStack).sort()).toEqual(["dev", "prod"]);
        for (const { job } of Object.values(byStack)) expect(pulumiSteps(job)[0].with?.command).toBe("up");
        expect(byStack.prod.job.needs).toBe(byStack.dev.id);
    });

    test("two ups of one environment never overlap: one queueing concurrency group per stack", () => {
        const groups = jobsOf(up.workflow).map(([, job]) => job.concurrency);
        for (const group of groups) expect(group?.["cancel-in-progress"]).toBe(false);
        expect(groups.map((g) => g?.group)).toEqual(["pulumi-up-dev", "pulumi-up-prod"]);
    });

    test("every up refreshes the stack before diffing (the autoscaler and AKS's upgrades change prod outside Pulumi)", () => {
        for (const [, job] of jobsOf(up.workflow)) expect(pulumiSteps(job)[0].with?.refresh).toBe(true);
    });

    test("the preview diff is posted as a PR comment with the GitHub token", () => {
        for (const [, job] of jobsOf(preview.workflow)) {
            const step = pulumiSteps(job)[0];
            expect(step.with?.["comment-on-pr"]).toBe(true);
            expect(step.with?.["github-token"]).toBe("${{ secrets.GITHUB_TOKEN }}");
        }
    });

    test("every Pulumi step runs the policy pack and reads the backend from a variable", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow)) {
                const step = pulumiSteps(job)[0];
                expect(step.with?.policyPacks).toBe("policy");
                expect(step.with?.["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
                expect(step.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
            }
        }
    });

    test("dependencies are installed with npm ci on Node 22 before Pulumi runs", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow)) {
                const setup = job.steps.find(runs("actions/setup-node"));
                expect(setup?.with?.["node-version"]).toBe(22);
                const npmCi = firstIndex(job, (s) => s.run === "npm ci");
                expect(npmCi).toBeGreaterThan(firstIndex(job, (s) => s === setup));
                expect(npmCi).toBeLessThan(firstIndex(job, isPulumi));
            }
        }
    });

    test("dev jobs start a single-node swarm before Pulumi runs", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow).filter(([, j]) => stackOf(j) === "dev")) {
                const swarm = firstIndex(job, (s) => (s.run ?? "").includes("docker swarm init --advertise-addr 127.0.0.1"));
                expect(swarm).toBeGreaterThanOrEqual(0);
                expect(swarm).toBeLessThan(firstIndex(job, isPulumi));
            }
        }
    });
});

describe("permissions and credentials", () => {
    test("workflow-level permissions are empty and nothing asks for write-all or read-all", () => {
        for (const [file, { text, workflow }] of both) {
            expect([file, workflow.permissions]).toEqual([file, {}]);
            expect(text).not.toMatch(/write-all|read-all/);
        }
    });

    test("each job has only the permissions it uses", () => {
        const allowed = (job: Job, isPreview: boolean): Record<string, string> => ({
            contents: "read",
            ...(isPreview ? { "pull-requests": "write" } : {}),
            ...(logsInToAzure(job) ? { "id-token": "write" } : {}),
        });
        for (const [, job] of jobsOf(preview.workflow)) expect(job.permissions).toEqual(allowed(job, true));
        for (const [, job] of jobsOf(up.workflow)) expect(job.permissions).toEqual(allowed(job, false));
    });

    test("the prod jobs, and only they, log in to Azure", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow)) expect([stackOf(job), logsInToAzure(job)]).toEqual([stackOf(job), stackOf(job) === "prod"]);
        }
    });

    test("the OIDC login comes before any Pulumi step and uses repository variables", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow).filter(([, j]) => logsInToAzure(j))) {
                const login = firstIndex(job, isAzureLogin);
                expect(login).toBeLessThan(firstIndex(job, isPulumi));
                expect(job.steps[login].with).toEqual({
                    "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                    "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                    "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
                });
            }
        }
    });

    test("azure-native gets OIDC settings, never a client secret", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow).filter(([, j]) => logsInToAzure(j))) {
                expect(job.env).toEqual({
                    ARM_USE_OIDC: "true",
                    ARM_CLIENT_ID: "${{ vars.AZURE_CLIENT_ID }}",
                    ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
                    ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
                });
            }
        }
    });

    test("no secret other than the Pulumi token and the GitHub token is referenced", () => {
        for (const [, { text }] of both) {
            const secrets = new Set([...text.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
            expect([...secrets].every((s) => s === "PULUMI_ACCESS_TOKEN" || s === "GITHUB_TOKEN")).toBe(true);
            expect(secrets.has("PULUMI_ACCESS_TOKEN")).toBe(true);
            expect(text).not.toMatch(/ARM_CLIENT_SECRET|client-secret|creds:/);
        }
    });

    test("the preview jobs can write nothing but the PR comment (and ask for an OIDC token)", () => {
        for (const [id, job] of jobsOf(preview.workflow)) {
            const writes = Object.entries(job.permissions as Record<string, string>).filter(([, level]) => level === "write");
            expect([id, writes.map(([scope]) => scope).filter((scope) => scope !== "pull-requests" && scope !== "id-token")]).toEqual([id, []]);
        }
    });

    test("checkout keeps no credentials", () => {
        for (const [, { workflow }] of both) {
            for (const [id, job] of jobsOf(workflow))
                expect([id, job.steps.find(runs("actions/checkout"))?.with?.["persist-credentials"]]).toEqual([id, false]);
        }
    });
});

describe("pinned actions", () => {
    test("every action is pinned by a full commit SHA, with the release it is in a comment", () => {
        for (const [file, { text, workflow }] of both) {
            const lines = text.split("\n").filter((line) => /^\s*(- )?uses:/.test(line));
            const steps = jobsOf(workflow).flatMap(([, job]) => job.steps.filter((s) => s.uses));
            expect([file, lines.length]).toEqual([file, steps.length]);
            for (const line of lines)
                expect([file, line.trim()]).toEqual([file, expect.stringMatching(/^(- )?uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/)]);
        }
    });

    test("an action is pinned to the same commit everywhere", () => {
        const commits = new Map<string, Set<string>>();
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow)) {
                for (const [action, commit] of job.steps.filter((s) => s.uses).map((s) => s.uses!.split("@"))) {
                    commits.set(action, (commits.get(action) ?? new Set()).add(commit));
                }
            }
        }
        for (const [action, pinned] of commits) expect([action, pinned.size]).toEqual([action, 1]);
    });
});

describe("Kubernetes access with Entra ID", () => {
    const prodJobs = () =>
        both.flatMap(([file, { workflow }]) =>
            jobsOf(workflow)
                .filter(([, job]) => stackOf(job) === "prod")
                .map(([id, job]) => [`${file} ${id}`, job] as const),
        );

    test("every prod job installs kubelogin, a pinned release, before Pulumi runs", () => {
        expect(prodJobs()).toHaveLength(2);
        for (const [where, job] of prodJobs()) {
            const kubelogin = firstIndex(job, isKubelogin);
            expect([where, kubelogin]).toEqual([where, expect.any(Number)]);
            expect([where, kubelogin >= 0 && kubelogin < firstIndex(job, isPulumi)]).toEqual([where, true]);
            expect([where, job.steps[kubelogin].with]).toEqual([where, { "kubelogin-version": expect.stringMatching(/^v\d+\.\d+\.\d+$/) }]);
        }
    });

    test("every prod job gets the AKS token after the Azure login and before Pulumi runs", () => {
        for (const [where, job] of prodJobs()) {
            const token = firstIndex(job, isAksToken);
            expect([where, firstIndex(job, isAzureLogin) < token && token < firstIndex(job, isPulumi)]).toEqual([where, true]);
        }
    });

    test("no workflow sets the Kubernetes provider's PULUMI_K8S_ variables", () => {
        // They become the provider's inputs: a preview would show the provider changing and diff unlike `up`.
        for (const [file, { workflow }] of both) {
            const envs = [workflow.env, ...jobsOf(workflow).flatMap(([, job]) => [job.env, ...job.steps.map((s) => s.env)])];
            const names = envs.flatMap((env) => Object.keys(env ?? {}));
            expect([file, names.filter((name) => name.startsWith("PULUMI_K8S_"))]).toEqual([file, []]);
        }
    });
});
