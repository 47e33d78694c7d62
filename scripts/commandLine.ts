/**
 * The command-line rules every `npm run` script of this project shares: `--flag value` and `--flag=value`, switches
 * without a value, unknown flags named with the closest known one, a bad command line answered with the message and
 * the usage on stderr and exit code 1. Plain functions, no I/O.
 */
import { closest } from "../components/config/checks";

/** A bad command line: `main` prints the usage after the message. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** The flags a command knows. */
export interface FlagSpec {
    /** Flags that take a value, in the order messages list them. */
    values: readonly string[];
    /** Those of `values` that may be given more than once (each value kept, in order). Default none. */
    repeatable?: readonly string[];
    /** Flags without a value. */
    switches: readonly string[];
    /** Whether bare words (not flags) are taken as positional arguments; otherwise they are refused. Default false. */
    positionals?: boolean;
    /** The flag a refused bare word is shown after, as the likely fix (`--out dev`). Default the first of `values`. */
    exampleFlag?: string;
}

/** What `parseFlags` read. */
export interface ParsedFlags {
    /** The value of each flag given once. */
    values: Record<string, string>;
    /** Every value of each repeatable flag, in order. */
    repeated: Record<string, string[]>;
    switches: Set<string>;
    /** Bare words, in order (only with `positionals`). */
    positionals: string[];
}

/**
 * Reads `argv` (without `node script`) against `spec`; throws what `usageError` makes of the first problem (an
 * unknown flag, a missing value, a flag given twice, a value for a switch, a bare word where none is taken).
 */
export function parseFlags(argv: string[], spec: FlagSpec, usageError: (message: string) => Error = (m) => new UsageError(m)): ParsedFlags {
    const parsed: ParsedFlags = { values: {}, repeated: {}, switches: new Set(), positionals: [] };
    const known = [...spec.values, ...spec.switches];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) {
            if (!spec.positionals)
                throw usageError(`unexpected argument "${arg}"; every value follows its flag, e.g. \`${spec.exampleFlag ?? spec.values[0]} ${arg}\``);
            parsed.positionals.push(arg);
            continue;
        }
        const eq = arg.indexOf("=");
        const flag = eq === -1 ? arg : arg.slice(0, eq);
        if (spec.switches.includes(flag)) {
            if (eq !== -1) throw usageError(`\`${flag}\` takes no value, got "${arg.slice(eq + 1)}"`);
            parsed.switches.add(flag);
            continue;
        }
        if (!spec.values.includes(flag)) {
            const near = closest(flag, known);
            throw usageError(`unknown flag \`${flag}\`; ${near ? `did you mean \`${near}\`?` : `known flags: ${known.join(", ")}`}`);
        }
        const value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined || value === "" || (eq === -1 && value.startsWith("--"))) throw usageError(`\`${flag}\` needs a value`);
        if (spec.repeatable?.includes(flag)) {
            (parsed.repeated[flag] ??= []).push(value);
            continue;
        }
        if (parsed.values[flag] !== undefined) throw usageError(`\`${flag}\` is given twice`);
        parsed.values[flag] = value;
    }
    return parsed;
}

/** Output of a command: `stdout` for results, `stderr` for messages. */
export interface CommandIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
}

/** The process's own stdout and stderr. */
export const PROCESS_IO: CommandIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
};

/** Reports a failed command on stderr (the usage after a `UsageError`) and returns its exit code, 1. */
export function reportFailure(error: unknown, usage: string, io: CommandIo): number {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`${message}\n${error instanceof UsageError ? `${usage}\n` : ""}`);
    return 1;
}
