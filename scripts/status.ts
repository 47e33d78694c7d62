/**
 * `npm run status -- --stack STACK [--json]`: one row per model — the gateway's health, replicas ready/desired,
 * requests per second, p50/p99, error rate, image and deployment time — under the gateway URL and its certificate.
 * Sources: the stack (Automation API), the engine running the models, the gateway's `status.json`. What could not be
 * read is said on stderr after what could, with exit code 1.
 */
import { CommandIo, PROCESS_IO, reportFailure } from "./commandLine";
import { readDeployedStack, StackSelection } from "./deployedStack";
import { readGatewayStatus } from "./gatewayStatus";
import { openModelEngine } from "./openModelEngine";
import { EngineFacts, gatewayLogin, parseStatusArgs, renderStatus, STATUS_USAGE, statusReport, StatusReport } from "./operations";

/** Reads every source of the status of a deployed stack and merges them; throws only when the stack itself cannot be read. */
export async function stackStatus(selection: StackSelection): Promise<StatusReport> {
    const stack = await readDeployedStack(selection);
    const { url } = stack.facts;
    const problems: string[] = [];
    const gateway = await readGatewayStatus(url, stack.caCertPem, gatewayLogin(stack.config.gateway.users, stack.passwords));
    if (gateway.live.state === "unavailable") problems.push(`the gateway at ${url} could not be read: ${gateway.live.reason}`);
    // The gateway also counts models other stacks added (team stacks): the engine is asked about those too.
    const gatewayModels = gateway.live.state === "on" ? gateway.live.status.models.map((model) => model.name) : [];
    const names = [...new Set([...stack.facts.models, ...gatewayModels])];
    let engine: Record<string, EngineFacts | undefined> | undefined;
    try {
        engine = await openModelEngine(stack).facts(names);
    } catch (error) {
        problems.push((error as Error).message);
    }
    return statusReport({ stack: stack.facts, engine, live: gateway.live, servedNotAfter: gateway.servedNotAfter, problems }, new Date());
}

/** Runs the command; resolves with the exit code. */
export async function main(argv: string[], projectDir = process.cwd(), io: CommandIo = PROCESS_IO): Promise<number> {
    try {
        const options = parseStatusArgs(argv);
        const report = await stackStatus({ stack: options.stack, projectDir });
        io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, new Date()));
        for (const problem of report.problems) io.stderr(`${problem}\n`);
        return report.problems.length > 0 ? 1 : 0;
    } catch (error) {
        return reportFailure(error, STATUS_USAGE, io);
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
