/**
 * The logic of the operator commands `npm run status` and `npm run logs`, without I/O: their command lines, the model
 * check, what the engine, the stack and the gateway each tell about a model merged into one row, and the table.
 * `scripts/status.ts` and `scripts/logs.ts` ask the sources; everything they print is made here.
 */
import { closest } from "../components/config/checks";
import type { HubTarget } from "../components/config/target";
import { parseFlags, UsageError } from "./commandLine";

export const STATUS_USAGE = "usage: npm run status -- --stack STACK [--json]";
export const LOGS_USAGE = "usage: npm run logs -- --stack STACK MODEL [--follow] [--since 10m|2026-12-01T03:00:00Z] [--tail N]";

/** The hint both commands give when the stack is missing. */
const STACK_REQUIRED = "`--stack` is required: the Pulumi stack to read, e.g. `--stack dev`";

// ---------------------------------------------------------------------------------------------
// Command lines

/** What `npm run status` is asked for. */
export interface StatusOptions {
    /** Pulumi stack name (`dev`, or `org/project/dev`). */
    stack: string;
    /** `--json`: the report as one JSON object instead of the table. */
    json: boolean;
}

/** What `npm run logs` is asked for. */
export interface LogsOptions {
    stack: string;
    /** The model whose replicas' logs to show. */
    model: string;
    /** `--follow`: keep printing new lines until interrupted. */
    follow: boolean;
    /** `--since`: only lines written after this moment (see `parseSince`). */
    since?: Since;
    /** `--tail N`: only the last N lines of each replica. */
    tail?: number;
}

/** `--since` as given: a duration back from now, or a moment. */
export type Since = { seconds: number } | { time: Date };

/** Parses `npm run status` arguments; throws `UsageError`. */
export function parseStatusArgs(argv: string[]): StatusOptions {
    const { values, switches } = parseFlags(argv, { values: ["--stack"], switches: ["--json"] });
    if (values["--stack"] === undefined) throw new UsageError(STACK_REQUIRED);
    return { stack: values["--stack"], json: switches.has("--json") };
}

/** Parses `npm run logs` arguments (the model is the one bare word); throws `UsageError`. */
export function parseLogsArgs(argv: string[]): LogsOptions {
    const { values, switches, positionals } = parseFlags(argv, {
        values: ["--stack", "--since", "--tail"],
        switches: ["--follow"],
        positionals: true,
    });
    if (values["--stack"] === undefined) throw new UsageError(STACK_REQUIRED);
    if (positionals.length === 0) throw new UsageError("MODEL is required: the model whose logs to show, e.g. `npm run logs -- --stack dev hello`");
    if (positionals.length > 1) throw new UsageError(`one model at a time, got ${positionals.map((p) => `"${p}"`).join(", ")}`);
    const tail = values["--tail"];
    if (tail !== undefined && !/^[1-9]\d{0,8}$/.test(tail)) throw new UsageError(`\`--tail\` must be a whole number of lines ≥ 1, got "${tail}"`);
    return {
        stack: values["--stack"],
        model: positionals[0],
        follow: switches.has("--follow"),
        ...(values["--since"] !== undefined ? { since: parseSince(values["--since"]) } : {}),
        ...(tail !== undefined ? { tail: Number(tail) } : {}),
    };
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `--since`: a duration back from now (`90s`, `10m`, `1h30m`, `2d`) or an RFC 3339 moment
 * (`2026-12-01T03:00:00Z`, as `docker service logs --since` takes it). Throws `UsageError`.
 */
export function parseSince(text: string): Since {
    if (/^(\d+[smhd])+$/.test(text)) {
        const seconds = [...text.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS[unit], 0);
        if (seconds > 0) return { seconds };
    } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))) {
        return { time: new Date(text) };
    }
    throw new UsageError(
        `\`--since\` must be a duration such as 10m, 1h30m or 2d (units s, m, h, d; more than 0), or a time such as 2026-12-01T03:00:00Z, got "${text}"`,
    );
}

/** What an engine is asked for: the moment `--since` stands for at `now`, and the other options as they are. */
export interface LogRequest {
    follow: boolean;
    since?: Date;
    tail?: number;
}

export function logRequest(options: Pick<LogsOptions, "follow" | "since" | "tail">, now: Date): LogRequest {
    const { since } = options;
    return {
        follow: options.follow,
        ...(since ? { since: "time" in since ? since.time : new Date(now.getTime() - since.seconds * 1000) } : {}),
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
    };
}

/** Throws unless `model` is one of the stack's models: the message lists them and suggests the closest name. */
export function checkModelName(model: string, known: string[], stack: string): void {
    if (known.includes(model)) return;
    const near = closest(model, known);
    throw new Error(
        `stack ${stack} has no model "${model}"${near ? `; did you mean "${near}"?` : ""} ${
            known.length > 0 ? `Its models: ${[...known].sort().join(", ")}` : "It has no models"
        }`,
    );
}

// ---------------------------------------------------------------------------------------------
// Log lines

/** One line of a model's log, and the replica (swarm task or pod) that wrote it. */
export interface LogLine {
    /** `hello.1.k3j4…@node` on swarm (as `docker service logs` names a task), the pod's name on Kubernetes. */
    source: string;
    text: string;
}

/**
 * Formats lines as `docker service logs` does: the source, padded to the widest seen so far, then `| ` and the line.
 * Keeps that width between calls.
 */
export function logLineFormatter(): (line: LogLine) => string {
    let width = 0;
    return ({ source, text }) => {
        width = Math.max(width, source.length);
        return `${source.padEnd(width)} | ${text}`;
    };
}

/**
 * Cuts a stream's chunks into lines: `push` returns the complete lines of a chunk (without `\n` or `\r\n`) and keeps
 * the rest for the next; `end` returns what is left, if anything.
 */
export function lineSplitter(): { push: (chunk: string) => string[]; end: () => string[] } {
    let rest = "";
    return {
        push: (chunk) => {
            const lines = (rest + chunk).split("\n");
            rest = lines.pop()!;
            return lines.map((line) => line.replace(/\r$/, ""));
        },
        end: () => (rest === "" ? [] : [rest.replace(/\r$/, "")]),
    };
}

// ---------------------------------------------------------------------------------------------
// The sources of a status row

/** What the stack's outputs tell (never a secret). */
export interface StackFacts {
    stack: string;
    target: HubTarget;
    /** The gateway's base URL, ending in `/`. */
    url: string;
    /** The stack's models, by name. */
    models: string[];
    /** The gateway certificate's expiry as of the last `pulumi up` (`certificateNotAfter`), where the stack has it. */
    certificateNotAfter?: string;
}

/** What the engine (swarm service, or Kubernetes Deployment and pods) tells about one model. */
export interface EngineFacts {
    /** Replicas asked for: the service's or Deployment's `replicas`. */
    desired: number;
    /** Replicas running and healthy: swarm tasks in state `running`, the Deployment's `readyReplicas`. */
    ready: number;
    /** The image reference the replicas run, with its digest where the engine knows it. */
    image: string;
    /** When the model was last deployed or changed (ISO 8601): the service's `UpdatedAt`, the Deployment's last rollout. */
    deployedAt?: string;
}

export type ModelHealth = "ok" | "failing" | "idle";
const MODEL_HEALTH: readonly ModelHealth[] = ["ok", "failing", "idle"];

/** One model in the gateway's `status.json`. */
export interface GatewayModelStatus {
    name: string;
    health: ModelHealth;
    requests: number;
    /** Null while the gateway is younger than a second (no window to divide by yet). */
    requestsPerSecond: { "1m": number | null; "5m": number | null };
    /** Null when the window had no request. */
    p50Seconds: number | null;
    p99Seconds: number | null;
    errorRate: number | null;
    upstreamErrors: number;
}

/** The gateway's `GET {url}status.json` (`plumberhub:gateway.metrics: true`). */
export interface GatewayStatus {
    generatedAt: string;
    connections: { active: number; reading: number; writing: number; waiting: number };
    /** The certificate the gateway serves; null where it cannot tell. */
    certificate: { notAfter: string; daysLeft: number } | null;
    models: GatewayModelStatus[];
}

/** Checks the shape of a `status.json` body; throws naming the first field that does not fit. */
export function parseGatewayStatus(body: unknown): GatewayStatus {
    const fail = (field: string, value: unknown): never => {
        throw new Error(`the gateway's status.json does not have the expected shape: \`${field}\` is ${JSON.stringify(value) ?? "missing"}`);
    };
    const object = (value: unknown, field: string): Record<string, unknown> =>
        typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(field, value);
    const number = (value: unknown, field: string): number => (typeof value === "number" && Number.isFinite(value) ? value : fail(field, value));
    const numberOrNull = (value: unknown, field: string): number | null => (value === null ? null : number(value, field));
    const text = (value: unknown, field: string): string => (typeof value === "string" && value !== "" ? value : fail(field, value));

    const root = object(body, "(body)");
    const gateway = object(root.gateway, "gateway");
    const connections = object(gateway.connections, "gateway.connections");
    const certificate = gateway.certificate === null || gateway.certificate === undefined ? null : object(gateway.certificate, "gateway.certificate");
    if (!Array.isArray(root.models)) fail("models", root.models);
    return {
        generatedAt: text(root.generatedAt, "generatedAt"),
        connections: {
            active: number(connections.active, "gateway.connections.active"),
            reading: number(connections.reading, "gateway.connections.reading"),
            writing: number(connections.writing, "gateway.connections.writing"),
            waiting: number(connections.waiting, "gateway.connections.waiting"),
        },
        certificate: certificate
            ? {
                  notAfter: text(certificate.notAfter, "gateway.certificate.notAfter"),
                  daysLeft: number(certificate.daysLeft, "gateway.certificate.daysLeft"),
              }
            : null,
        models: (root.models as unknown[]).map((entry, i) => {
            const at = `models[${i}]`;
            const model = object(entry, at);
            const health = model.health as ModelHealth;
            if (!MODEL_HEALTH.includes(health)) fail(`${at}.health`, model.health);
            const rates = object(model.requestsPerSecond, `${at}.requestsPerSecond`);
            return {
                name: text(model.name, `${at}.name`),
                health,
                requests: number(model.requests, `${at}.requests`),
                requestsPerSecond: {
                    "1m": numberOrNull(rates["1m"], `${at}.requestsPerSecond.1m`),
                    "5m": numberOrNull(rates["5m"], `${at}.requestsPerSecond.5m`),
                },
                p50Seconds: numberOrNull(model.p50Seconds, `${at}.p50Seconds`),
                p99Seconds: numberOrNull(model.p99Seconds, `${at}.p99Seconds`),
                errorRate: numberOrNull(model.errorRate, `${at}.errorRate`),
                upstreamErrors: number(model.upstreamErrors, `${at}.upstreamErrors`),
            };
        }),
    };
}

/** The gateway user the status command signs in as: the first of the stack's users that has a password in its outputs. */
export function gatewayLogin(users: string[], passwords: Record<string, string>): { user: string; password: string } | undefined {
    const user =
        users.find((name) => typeof passwords[name] === "string") ?? Object.keys(passwords).find((name) => typeof passwords[name] === "string");
    return user === undefined ? undefined : { user, password: passwords[user] };
}

/** What the gateway answered for `status.json`. */
export type LiveMetrics = { state: "on"; status: GatewayStatus } | { state: "off" } | { state: "unavailable"; reason: string };

/** What `status.json` answers with 404: the gateway was deployed without `plumberhub:gateway.metrics`. */
export const METRICS_OFF = "metrics off (set plumberhub:gateway.metrics: true)";

// ---------------------------------------------------------------------------------------------
// The report

/** One model's row: engine, stack and gateway merged. Null where its source did not tell. */
export interface StatusRow {
    name: string;
    /** The gateway's verdict: `ok`, `failing` (errors or unreachable replicas) or `idle` (no requests lately). */
    health: ModelHealth | null;
    replicas: { ready: number; desired: number } | null;
    requestsPerSecond: { "1m": number | null; "5m": number | null } | null;
    p50Seconds: number | null;
    p99Seconds: number | null;
    errorRate: number | null;
    image: string | null;
    deployedAt: string | null;
    /** Whether the engine has the model's service or Deployment (false: listed by the stack or gateway, but not running there). */
    onEngine: boolean | null;
}

/** Everything `npm run status` prints, as `--json` prints it. */
export interface StatusReport {
    stack: string;
    target: HubTarget;
    url: string;
    /** The gateway's certificate; `source` says who told: the gateway's status, its TLS handshake, or the stack as of the last `up`. */
    certificate: { notAfter: string; daysLeft: number; source: "gateway" | "served" | "stack" } | null;
    metrics: LiveMetrics["state"];
    /** When the gateway computed the metrics. */
    metricsGeneratedAt: string | null;
    /** The gateway's open client connections. */
    activeConnections: number | null;
    models: StatusRow[];
    /** What could not be read (the engine or the gateway): printed on stderr, and the command exits 1. */
    problems: string[];
}

/** Whole days from `now` until `notAfter` (negative once expired). */
export function daysLeft(notAfter: Date, now: Date): number {
    return Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
}

/** The sources of a report, each as read (or not). */
export interface StatusSources {
    stack: StackFacts;
    /** Engine facts by model (undefined: the engine has no such service or Deployment); undefined when the engine was not reached. */
    engine: Record<string, EngineFacts | undefined> | undefined;
    live: LiveMetrics;
    /** The expiry of the certificate the gateway served in the TLS handshake, when it was reached. */
    servedNotAfter?: string;
    problems: string[];
}

/**
 * Merges the sources into the report: a row for each of the stack's models (sorted), then for each model only the
 * gateway knows (a team stack's). The certificate comes from the gateway's status, else the handshake, else the stack.
 */
export function statusReport(sources: StatusSources, now: Date): StatusReport {
    const { stack, engine, live } = sources;
    const status = live.state === "on" ? live.status : undefined;
    const names = [...[...stack.models].sort(), ...(status?.models.map((m) => m.name).filter((name) => !stack.models.includes(name)) ?? [])];
    const models = names.map((name): StatusRow => {
        const facts = engine?.[name];
        const metrics = status?.models.find((m) => m.name === name);
        return {
            name,
            health: metrics?.health ?? null,
            replicas: facts ? { ready: facts.ready, desired: facts.desired } : null,
            requestsPerSecond: metrics ? { ...metrics.requestsPerSecond } : null,
            p50Seconds: metrics?.p50Seconds ?? null,
            p99Seconds: metrics?.p99Seconds ?? null,
            errorRate: metrics?.errorRate ?? null,
            image: facts?.image ?? null,
            deployedAt: facts?.deployedAt ?? null,
            onEngine: engine ? facts !== undefined : null,
        };
    });
    const fromStack = stack.certificateNotAfter;
    const certificate = status?.certificate
        ? { ...status.certificate, source: "gateway" as const }
        : sources.servedNotAfter !== undefined
          ? { notAfter: sources.servedNotAfter, daysLeft: daysLeft(new Date(sources.servedNotAfter), now), source: "served" as const }
          : fromStack
            ? { notAfter: fromStack, daysLeft: daysLeft(new Date(fromStack), now), source: "stack" as const }
            : null;
    return {
        stack: stack.stack,
        target: stack.target,
        url: stack.url,
        certificate,
        metrics: live.state,
        metricsGeneratedAt: status?.generatedAt ?? null,
        activeConnections: status?.connections.active ?? null,
        models,
        problems: [...sources.problems],
    };
}

// ---------------------------------------------------------------------------------------------
// The table

/** `2026-12-01 03:30 UTC`. */
export function formatUtc(iso: string): string {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** How long ago `then` was, in its largest unit: `just now`, `42s ago`, `12m ago`, `3h ago`, `5d ago` (`in 3m` ahead). */
export function relativeTime(then: Date, now: Date): string {
    const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
    const size = Math.abs(seconds);
    if (size < 5) return "just now";
    const [amount, unit] =
        size < 60
            ? [size, "s"]
            : size < 3600
              ? [Math.floor(size / 60), "m"]
              : size < 86_400
                ? [Math.floor(size / 3600), "h"]
                : [Math.floor(size / 86_400), "d"];
    return seconds > 0 ? `${amount}${unit} ago` : `in ${amount}${unit}`;
}

/** An image reference without its registry host and with its digest cut to 12 hex digits, as Docker shortens ids. */
export function shortImage(reference: string): string {
    const [name, digest] = reference.split("@");
    const parts = name.split("/");
    // Docker's rule: a first part with a dot or a port, or `localhost`, is a registry host.
    const withoutHost = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost") ? parts.slice(1).join("/") : name;
    const shortDigest = digest?.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, "$1");
    return shortDigest ? `${withoutHost}@${shortDigest}` : withoutHost;
}

const NONE = "-";
const rate = (value: number | null) => (value === null ? NONE : value.toFixed(1));
/** Seconds as milliseconds below 1 s (`4 ms`, `<1 ms`), else seconds (`1.25 s`). */
export function formatLatency(seconds: number | null): string {
    if (seconds === null) return NONE;
    if (seconds >= 1) return `${seconds.toFixed(2)} s`;
    return seconds < 0.001 ? "<1 ms" : `${Math.round(seconds * 1000)} ms`;
}
const percent = (ratio: number | null) => (ratio === null ? NONE : `${(ratio * 100).toFixed(1)}%`);

/** Columns aligned on their widest cell, two spaces apart, no trailing blanks. */
export function renderTable(header: string[], rows: string[][]): string {
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows]
        .map(
            (cells) =>
                cells
                    .map((cell, i) => cell.padEnd(widths[i]))
                    .join("  ")
                    .trimEnd() + "\n",
        )
        .join("");
}

/** The replicas cell: `2/2`, `?` when the engine was not reached, `not running` when it has no such model. */
function replicasCell(row: StatusRow): string {
    if (row.onEngine === null) return "?";
    return row.replicas ? `${row.replicas.ready}/${row.replicas.desired}` : "not running";
}

/** The report as the command prints it: the gateway and its certificate, how the metrics were read, then one row per model. */
export function renderStatus(report: StatusReport, now: Date): string {
    const lines = [`stack ${report.stack} (${report.target}): ${report.url}`];
    const { certificate } = report;
    if (certificate) {
        const expiry = certificate.daysLeft < 0 ? `EXPIRED ${-certificate.daysLeft} days ago` : `${certificate.daysLeft} days left`;
        const note = certificate.source === "stack" ? " (as of the last pulumi up)" : "";
        lines.push(`certificate: valid until ${formatUtc(certificate.notAfter)}, ${expiry}${note}`);
    } else {
        lines.push("certificate: unknown (the gateway was not reached and the stack does not record it)");
    }
    const live = report.metrics === "on";
    if (live) {
        const connections =
            report.activeConnections === null ? "" : `, ${report.activeConnections} open connection${report.activeConnections === 1 ? "" : "s"}`;
        lines.push(`metrics: from the gateway at ${formatUtc(report.metricsGeneratedAt!)}${connections}`);
    } else {
        lines.push(report.metrics === "off" ? METRICS_OFF : "metrics unavailable (the gateway could not be read: see the message below)");
    }
    const header = [
        "MODEL",
        ...(live ? ["HEALTH"] : []),
        "READY",
        ...(live ? ["REQ/S 1M", "REQ/S 5M", "P50", "P99", "ERRORS"] : []),
        "IMAGE",
        "DEPLOYED",
    ];
    const rows = report.models.map((row) => [
        row.name,
        ...(live ? [row.health ?? NONE] : []),
        replicasCell(row),
        ...(live
            ? [
                  rate(row.requestsPerSecond?.["1m"] ?? null),
                  rate(row.requestsPerSecond?.["5m"] ?? null),
                  formatLatency(row.p50Seconds),
                  formatLatency(row.p99Seconds),
                  percent(row.errorRate),
              ]
            : []),
        row.image ? shortImage(row.image) : NONE,
        row.deployedAt ? `${formatUtc(row.deployedAt)} (${relativeTime(new Date(row.deployedAt), now)})` : NONE,
    ]);
    return `${lines.join("\n")}\n\n${renderTable(header, rows)}`;
}
