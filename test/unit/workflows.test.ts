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

const PULUMI_ACTION = /^pulumi\/actions@v\d+$/;
const AZURE_LOGIN = /^azure\/login@v\d+$/;

const pulumiSteps = (job: Job) => job.steps.filter((s) => PULUMI_ACTION.test(s.uses ?? ""));
const firstIndex = (job: Job, match: (s: Step) => boolean) => job.steps.findIndex(match);
const logsInToAzure = (job: Job) => job.steps.some((s) => AZURE_LOGIN.test(s.uses ?? ""));
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

    test("up runs on pushes to main and nothing else", () => {
        expect(up.workflow.on).toEqual({ push: { branches: ["main"] } });
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
                const setup = job.steps.find((s) => /^actions\/setup-node@v\d+$/.test(s.uses ?? ""));
                expect(setup?.with?.["node-version"]).toBe(22);
                const npmCi = firstIndex(job, (s) => s.run === "npm ci");
                expect(npmCi).toBeGreaterThan(firstIndex(job, (s) => s === setup));
                expect(npmCi).toBeLessThan(firstIndex(job, (s) => PULUMI_ACTION.test(s.uses ?? "")));
            }
        }
    });

    test("dev jobs start a single-node swarm before Pulumi runs", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow).filter(([, j]) => stackOf(j) === "dev")) {
                const swarm = firstIndex(job, (s) => (s.run ?? "").includes("docker swarm init --advertise-addr 127.0.0.1"));
                expect(swarm).toBeGreaterThanOrEqual(0);
                expect(swarm).toBeLessThan(firstIndex(job, (s) => PULUMI_ACTION.test(s.uses ?? "")));
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
                const login = firstIndex(job, (s) => AZURE_LOGIN.test(s.uses ?? ""));
                expect(login).toBeLessThan(firstIndex(job, (s) => PULUMI_ACTION.test(s.uses ?? "")));
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

    test("every action is pinned to a major version and checkout keeps no credentials", () => {
        for (const [, { workflow }] of both) {
            for (const [, job] of jobsOf(workflow)) {
                for (const step of job.steps.filter((s) => s.uses)) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
                const checkout = job.steps.find((s) => /^actions\/checkout@/.test(s.uses ?? ""));
                expect(checkout?.with?.["persist-credentials"]).toBe(false);
            }
        }
    });
});
