/**
 * `npm run logs -- --stack STACK MODEL [--follow] [--since 10m] [--tail N]`: the log lines of every replica of a
 * model, each prefixed with the swarm task or pod that wrote it (as `docker service logs` does), read from the engine
 * that runs the stack's models. `--follow` prints new lines until interrupted.
 */
import { CommandIo, PROCESS_IO, reportFailure } from "./commandLine";
import { readDeployedStack, StackSelection } from "./deployedStack";
import { openModelEngine } from "./openModelEngine";
import { checkModelName, LogLine, logLineFormatter, LOGS_USAGE, LogsOptions, logRequest, parseLogsArgs } from "./operations";

export interface ModelLogsOptions extends StackSelection, Omit<LogsOptions, "stack"> {
    /** Ends `follow` (and any read in progress): the promise then resolves. */
    signal?: AbortSignal;
}

/** Hands `onLine` the log lines of `options.model`'s replicas; throws for an unknown stack or model, or an unreachable engine. */
export async function modelLogs(options: ModelLogsOptions, onLine: (line: LogLine) => void): Promise<void> {
    const stack = await readDeployedStack(options);
    checkModelName(options.model, stack.facts.models, stack.facts.stack);
    await openModelEngine(stack).logs(options.model, logRequest(options, new Date()), onLine, options.signal);
}

/** Runs the command; resolves with the exit code. */
export async function main(argv: string[], projectDir = process.cwd(), io: CommandIo = PROCESS_IO): Promise<number> {
    try {
        const options = parseLogsArgs(argv);
        const format = logLineFormatter();
        await modelLogs({ ...options, projectDir }, (line) => io.stdout(`${format(line)}\n`));
        return 0;
    } catch (error) {
        return reportFailure(error, LOGS_USAGE, io);
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
