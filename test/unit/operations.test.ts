/**
 * The operator commands' logic (scripts/operations.ts and the pure parts of the engine readers): their command lines
 * and errors, the model check, `status.json`'s shape, merging the stack, engine and gateway into rows, the table
 * (null metrics, metrics off), and the Docker log stream's frames and details.
 */
import { UsageError } from "../../scripts/commandLine";
import {
    checkModelName,
    EngineFacts,
    formatLatency,
    GatewayStatus,
    gatewayLogin,
    LiveMetrics,
    logLineFormatter,
    logRequest,
    lineSplitter,
    METRICS_OFF,
    parseGatewayStatus,
    parseLogsArgs,
    parseSince,
    parseStatusArgs,
    relativeTime,
    renderStatus,
    shortImage,
    StackFacts,
    statusReport,
} from "../../scripts/operations";
import { dockerLogFrames, parseDetailedLogLine, taskLogName } from "../../scripts/swarmEngine";
import { engineError } from "../../scripts/modelEngine";
import { pulumiMessage } from "../../scripts/deployedStack";

const NOW = new Date("2026-12-01T03:30:00Z");
const DIGEST = `sha256:${"f60697c01932".padEnd(64, "a")}`;

function usageError(parse: () => unknown): string {
    try {
        parse();
    } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
    }
    throw new Error("no usage error");
}

/** The contract's example `status.json`. */
const STATUS_BODY = {
    generatedAt: "2026-12-01T03:30:00Z",
    gateway: { connections: { active: 1, reading: 0, writing: 1, waiting: 0 }, certificate: { notAfter: "2027-02-28T10:00:00Z", daysLeft: 88 } },
    models: [
        {
            name: "hello",
            health: "ok",
            requests: 1234,
            requestsPerSecond: { "1m": 3.2, "5m": 2.9 },
            p50Seconds: 0.004,
            p99Seconds: 0.031,
            errorRate: 0.0,
            upstreamErrors: 0,
        },
    ],
};

const STACK: StackFacts = {
    stack: "dev",
    target: "swarm",
    url: "https://localhost:8443/",
    models: ["hello", "bos-rf"],
    certificateNotAfter: "2027-02-20T00:00:00Z",
};

const HELLO_FACTS: EngineFacts = { desired: 2, ready: 2, image: `127.0.0.1:5000/hello@${DIGEST}`, deployedAt: "2026-12-01T00:30:00Z" };
const BOS_FACTS: EngineFacts = { desired: 1, ready: 0, image: `127.0.0.1:5000/bos-rf@${DIGEST}`, deployedAt: "2026-11-30T03:30:00Z" };

const liveOn = (body: unknown = STATUS_BODY): LiveMetrics => ({ state: "on", status: parseGatewayStatus(body) });

describe("the status command line", () => {
    test("--stack and --json are read", () => {
        expect(parseStatusArgs(["--stack", "dev", "--json"])).toEqual({ stack: "dev", json: true });
        expect(parseStatusArgs(["--stack=prod"])).toEqual({ stack: "prod", json: false });
    });

    test("a missing --stack is refused with an example", () => {
        expect(usageError(() => parseStatusArgs(["--json"]))).toBe("`--stack` is required: the Pulumi stack to read, e.g. `--stack dev`");
    });

    test("an unknown flag is named with the closest known one", () => {
        expect(usageError(() => parseStatusArgs(["--stack", "dev", "--jsn"]))).toBe("unknown flag `--jsn`; did you mean `--json`?");
    });

    test("a bare word is refused", () => {
        expect(usageError(() => parseStatusArgs(["dev"]))).toBe('unexpected argument "dev"; every value follows its flag, e.g. `--stack dev`');
    });
});

describe("the logs command line", () => {
    test("the model is the bare word; the options around it are read", () => {
        expect(parseLogsArgs(["--stack", "dev", "hello", "--follow", "--since", "10m", "--tail", "50"])).toEqual({
            stack: "dev",
            model: "hello",
            follow: true,
            since: { seconds: 600 },
            tail: 50,
        });
    });

    test("a missing --stack or model is refused", () => {
        expect(usageError(() => parseLogsArgs(["hello"]))).toBe("`--stack` is required: the Pulumi stack to read, e.g. `--stack dev`");
        expect(usageError(() => parseLogsArgs(["--stack", "dev"]))).toBe(
            "MODEL is required: the model whose logs to show, e.g. `npm run logs -- --stack dev hello`",
        );
    });

    test("two models are refused", () => {
        expect(usageError(() => parseLogsArgs(["--stack", "dev", "hello", "bos-rf"]))).toBe('one model at a time, got "hello", "bos-rf"');
    });

    test("--tail must be a whole number of at least 1", () => {
        for (const bad of ["0", "-3", "ten", "1.5"]) {
            expect(usageError(() => parseLogsArgs(["--stack", "dev", "hello", `--tail=${bad}`]))).toBe(
                `\`--tail\` must be a whole number of lines ≥ 1, got "${bad}"`,
            );
        }
    });

    test("--since takes durations in s, m, h, d, combined", () => {
        expect(parseSince("90s")).toEqual({ seconds: 90 });
        expect(parseSince("1h30m")).toEqual({ seconds: 5400 });
        expect(parseSince("2d")).toEqual({ seconds: 172_800 });
    });

    test("--since takes an RFC 3339 time", () => {
        expect(parseSince("2026-12-01T03:00:00Z")).toEqual({ time: new Date("2026-12-01T03:00:00Z") });
        expect(parseSince("2026-12-01T04:00:00+01:00")).toEqual({ time: new Date("2026-12-01T03:00:00Z") });
    });

    test("--since refuses anything else, and a zero duration", () => {
        for (const bad of ["10", "10 minutes", "0m", "yesterday", "2026-12-01"]) {
            expect(usageError(() => parseSince(bad))).toBe(
                `\`--since\` must be a duration such as 10m, 1h30m or 2d (units s, m, h, d; more than 0), or a time such as 2026-12-01T03:00:00Z, got "${bad}"`,
            );
        }
    });

    test("a duration becomes the moment that far before now", () => {
        expect(logRequest({ follow: false, since: { seconds: 600 }, tail: 5 }, NOW)).toEqual({
            follow: false,
            since: new Date("2026-12-01T03:20:00Z"),
            tail: 5,
        });
    });
});

describe("the model check", () => {
    test("an unknown model lists the stack's models and suggests the closest", () => {
        expect(() => checkModelName("helo", ["hello", "bos-rf"], "dev")).toThrow(
            'stack dev has no model "helo"; did you mean "hello"? Its models: bos-rf, hello',
        );
    });

    test("a name far from every model gets no suggestion", () => {
        expect(() => checkModelName("iris", ["hello", "bos-rf"], "dev")).toThrow('stack dev has no model "iris" Its models: bos-rf, hello');
    });

    test("a known model passes", () => {
        expect(() => checkModelName("hello", ["hello"], "dev")).not.toThrow();
    });
});

describe("the gateway's status.json", () => {
    test("the contract's example is read as it is", () => {
        const status: GatewayStatus = parseGatewayStatus(STATUS_BODY);
        expect(status.models[0]).toEqual(STATUS_BODY.models[0]);
        expect(status.certificate).toEqual({ notAfter: "2027-02-28T10:00:00Z", daysLeft: 88 });
    });

    test("null latencies, error rate and certificate are kept as null", () => {
        const body = {
            ...STATUS_BODY,
            gateway: { ...STATUS_BODY.gateway, certificate: null },
            models: [{ ...STATUS_BODY.models[0], health: "idle", p50Seconds: null, p99Seconds: null, errorRate: null }],
        };
        const status = parseGatewayStatus(body);
        expect(status.certificate).toBeNull();
        expect(status.models[0]).toMatchObject({ health: "idle", p50Seconds: null, p99Seconds: null, errorRate: null });
    });

    test("null rates (a gateway younger than a second) are kept as null and shown as -", () => {
        const body = { ...STATUS_BODY, models: [{ ...STATUS_BODY.models[0], requestsPerSecond: { "1m": null, "5m": null } }] };
        const live: LiveMetrics = { state: "on", status: parseGatewayStatus(body) };
        expect(live.status.models[0].requestsPerSecond).toEqual({ "1m": null, "5m": null });
        const table = renderStatus(statusReport({ stack: STACK, engine: { hello: HELLO_FACTS }, live, problems: [] }, NOW), NOW);
        expect(table).toMatch(/^hello\s+ok\s+2\/2\s+-\s+-\s+4 ms/m);
    });

    test("a field of the wrong shape is named", () => {
        const body = { ...STATUS_BODY, models: [{ ...STATUS_BODY.models[0], health: "great" }] };
        expect(() => parseGatewayStatus(body)).toThrow('the gateway\'s status.json does not have the expected shape: `models[0].health` is "great"');
    });

    test("the status command signs in as the first of the stack's users that has a password", () => {
        expect(gatewayLogin(["alice", "bob"], { bob: "b", alice: "a" })).toEqual({ user: "alice", password: "a" });
        expect(gatewayLogin(["carol"], { bob: "b" })).toEqual({ user: "bob", password: "b" });
        expect(gatewayLogin(["alice"], {})).toBeUndefined();
    });
});

describe("merging the sources into rows", () => {
    test("engine facts and gateway metrics meet in the model's row", () => {
        const report = statusReport({ stack: STACK, engine: { hello: HELLO_FACTS, "bos-rf": BOS_FACTS }, live: liveOn(), problems: [] }, NOW);
        expect(report.models.map((row) => row.name)).toEqual(["bos-rf", "hello"]);
        expect(report.models[1]).toEqual({
            name: "hello",
            health: "ok",
            replicas: { ready: 2, desired: 2 },
            requestsPerSecond: { "1m": 3.2, "5m": 2.9 },
            p50Seconds: 0.004,
            p99Seconds: 0.031,
            errorRate: 0,
            image: HELLO_FACTS.image,
            deployedAt: HELLO_FACTS.deployedAt,
            onEngine: true,
        });
    });

    test("a model the gateway has not counted yet has no metrics", () => {
        const report = statusReport({ stack: STACK, engine: { hello: HELLO_FACTS, "bos-rf": BOS_FACTS }, live: liveOn(), problems: [] }, NOW);
        expect(report.models[0]).toMatchObject({
            name: "bos-rf",
            health: null,
            requestsPerSecond: null,
            p99Seconds: null,
            replicas: { ready: 0, desired: 1 },
        });
    });

    test("a model only the gateway knows (another stack's) gets a row after the stack's", () => {
        const body = { ...STATUS_BODY, models: [...STATUS_BODY.models, { ...STATUS_BODY.models[0], name: "iris" }] };
        const report = statusReport(
            { stack: STACK, engine: { hello: HELLO_FACTS, "bos-rf": BOS_FACTS, iris: undefined }, live: liveOn(body), problems: [] },
            NOW,
        );
        expect(report.models.map((row) => [row.name, row.onEngine])).toEqual([
            ["bos-rf", true],
            ["hello", true],
            ["iris", false],
        ]);
    });

    test("the certificate comes from the gateway's status first", () => {
        const report = statusReport({ stack: STACK, engine: {}, live: liveOn(), servedNotAfter: "2027-01-01T00:00:00.000Z", problems: [] }, NOW);
        expect(report.certificate).toEqual({ notAfter: "2027-02-28T10:00:00Z", daysLeft: 88, source: "gateway" });
    });

    test("without metrics the certificate the gateway served is used, with its days left", () => {
        const report = statusReport(
            { stack: STACK, engine: {}, live: { state: "off" }, servedNotAfter: "2026-12-31T12:00:00.000Z", problems: [] },
            NOW,
        );
        expect(report.certificate).toEqual({ notAfter: "2026-12-31T12:00:00.000Z", daysLeft: 30, source: "served" });
    });

    test("an unreachable gateway leaves the stack's record of the certificate", () => {
        const report = statusReport({ stack: STACK, engine: {}, live: { state: "unavailable", reason: "ECONNREFUSED" }, problems: ["x"] }, NOW);
        expect(report.certificate).toEqual({ notAfter: "2027-02-20T00:00:00Z", daysLeft: 80, source: "stack" });
        expect(report.metrics).toBe("unavailable");
        expect(report.problems).toEqual(["x"]);
    });

    test("an engine that was not reached leaves the replicas unknown, not missing", () => {
        const report = statusReport({ stack: STACK, engine: undefined, live: { state: "off" }, problems: [] }, NOW);
        expect(report.models.every((row) => row.onEngine === null && row.replicas === null)).toBe(true);
    });
});

describe("the table", () => {
    const BOTH = { hello: HELLO_FACTS, "bos-rf": BOS_FACTS };
    const render = (live: LiveMetrics, engine: Record<string, EngineFacts | undefined> | undefined) =>
        renderStatus(statusReport({ stack: STACK, engine, live, problems: [] }, NOW), NOW);

    test("with metrics: the gateway and its certificate above one row per model", () => {
        expect(render(liveOn(), BOTH)).toBe(
            [
                "stack dev (swarm): https://localhost:8443/",
                "certificate: valid until 2027-02-28 10:00 UTC, 88 days left",
                "metrics: from the gateway at 2026-12-01 03:30 UTC, 1 open connection",
                "",
                "MODEL   HEALTH  READY  REQ/S 1M  REQ/S 5M  P50   P99    ERRORS  IMAGE                       DEPLOYED",
                "bos-rf  -       0/1    -         -         -     -      -       bos-rf@sha256:f60697c01932  2026-11-30 03:30 UTC (1d ago)",
                "hello   ok      2/2    3.2       2.9       4 ms  31 ms  0.0%    hello@sha256:f60697c01932   2026-12-01 00:30 UTC (3h ago)",
                "",
            ].join("\n"),
        );
    });

    test("metrics off: the hint instead of the live columns", () => {
        const table = render({ state: "off" }, BOTH);
        expect(table).toContain(`\n${METRICS_OFF}\n`);
        expect(table).toContain("MODEL   READY  IMAGE                       DEPLOYED\n");
        expect(table).not.toContain("HEALTH");
    });

    test("null metrics are shown as a dash", () => {
        const body = { ...STATUS_BODY, models: [{ ...STATUS_BODY.models[0], health: "idle", p50Seconds: null, p99Seconds: null, errorRate: null }] };
        expect(render(liveOn(body), BOTH)).toContain("hello   idle    2/2    3.2       2.9       -    -    -       hello@sha256:f60697c01932");
    });

    test("an unreached engine shows ? for the replicas; a model it does not run says so", () => {
        expect(render({ state: "off" }, undefined)).toContain("hello   ?      -      -\n");
        expect(render({ state: "off" }, { hello: HELLO_FACTS })).toContain("bos-rf  not running  -");
    });

    test("an expired certificate says so", () => {
        const stack = { ...STACK, certificateNotAfter: "2026-11-28T00:00:00Z" };
        const table = renderStatus(statusReport({ stack, engine: {}, live: { state: "unavailable", reason: "x" }, problems: [] }, NOW), NOW);
        expect(table).toContain("certificate: valid until 2026-11-28 00:00 UTC, EXPIRED 4 days ago (as of the last pulumi up)");
    });

    test("latencies below a second are in milliseconds", () => {
        expect([0.0004, 0.004, 0.9994, 1.25, null].map(formatLatency)).toEqual(["<1 ms", "4 ms", "999 ms", "1.25 s", "-"]);
    });

    test("times are said relative to now in their largest unit", () => {
        const ago = (seconds: number) => relativeTime(new Date(NOW.getTime() - seconds * 1000), NOW);
        expect([2, 42, 90, 3 * 3600 + 59 * 60, 5 * 86_400, -180].map(ago)).toEqual(["just now", "42s ago", "1m ago", "3h ago", "5d ago", "in 3m"]);
    });

    test("images lose their registry host and most of their digest", () => {
        expect(shortImage(`127.0.0.1:5000/hello@${DIGEST}`)).toBe("hello@sha256:f60697c01932");
        expect(shortImage(`plumberhubab12cd34.azurecr.io/team/iris@${DIGEST}`)).toBe("team/iris@sha256:f60697c01932");
        expect(shortImage("local/nginx:bookworm")).toBe("local/nginx:bookworm");
    });
});

describe("log lines", () => {
    test("sources are padded to the widest seen, as docker service logs does", () => {
        const format = logLineFormatter();
        expect(format({ source: "hello.10.abc@n1", text: "a" })).toBe("hello.10.abc@n1 | a");
        expect(format({ source: "hello.1.abc@n1", text: "b" })).toBe("hello.1.abc@n1  | b");
    });

    test("chunks are cut into whole lines, the rest kept for the next", () => {
        const splitter = lineSplitter();
        expect(splitter.push("one\r\ntw")).toEqual(["one"]);
        expect(splitter.push("o\nthree")).toEqual(["two"]);
        expect(splitter.end()).toEqual(["three"]);
    });

    test("the engine's log frames are read across chunk boundaries", () => {
        const frame = (stream: number, text: string) => {
            const payload = Buffer.from(text);
            const header = Buffer.alloc(8);
            header[0] = stream;
            header.writeUInt32BE(payload.length, 4);
            return Buffer.concat([header, payload]);
        };
        const all = Buffer.concat([frame(1, "first\n"), frame(2, "second\n")]);
        const read = dockerLogFrames();
        expect(read(all.subarray(0, 10)).map(String)).toEqual([]);
        expect(read(all.subarray(10, 20)).map(String)).toEqual(["first\n"]);
        expect(read(all.subarray(20)).map(String)).toEqual(["second\n"]);
    });

    test("a detailed line gives its task and the text", () => {
        const line = "com.docker.swarm.node.id=n0de,com.docker.swarm.service.id=s3rv,com.docker.swarm.task.id=t4sk0123456789abcdef tick 4 = done";
        expect(parseDetailedLogLine(line)).toEqual({
            context: {
                "com.docker.swarm.node.id": "n0de",
                "com.docker.swarm.service.id": "s3rv",
                "com.docker.swarm.task.id": "t4sk0123456789abcdef",
            },
            text: "tick 4 = done",
        });
        expect(parseDetailedLogLine("plain words")).toEqual({ context: {}, text: "plain words" });
    });

    test("a task is named service.slot.id@node", () => {
        const task = { ID: "t4sk0123456789abcdef", Slot: 2, NodeID: "n0de" };
        expect(taskLogName("hello", task, task.ID, [{ ID: "n0de", Description: { Hostname: "manager1" } }])).toBe("hello.2.t4sk01234567@manager1");
    });
});

describe("errors of the sources", () => {
    test("an engine that does not answer is named as unreachable", () => {
        const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:2376"), { code: "ECONNREFUSED" });
        expect(engineError("the Docker engine at tcp://10.0.0.5:2376", refused).message).toBe(
            "cannot reach the Docker engine at tcp://10.0.0.5:2376: connect ECONNREFUSED 10.0.0.5:2376",
        );
    });

    test("an engine that answers with an error is quoted", () => {
        expect(engineError("the Kubernetes API at https://k", new Error("HTTP 403 forbidden")).message).toBe(
            "error from the Kubernetes API at https://k: HTTP 403 forbidden",
        );
    });

    test("the Pulumi CLI's stderr is what a failed stack command says", () => {
        const failed = new Error("code: 255\n stdout: \n stderr: error: passphrase must be set\n\n err?: Error: Command failed\n");
        expect(pulumiMessage(failed)).toBe("error: passphrase must be set");
    });
});
