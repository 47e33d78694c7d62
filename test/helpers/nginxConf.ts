/**
 * A minimal nginx.conf around hand-written `server` blocks, for tests and benchmarks of one nginx
 * feature (basic auth, TLS) without the whole rendered gateway. Start it with gateway.ts `startNginx`.
 */
import * as fs from "fs";
import * as path from "path";

/** Writes `<dir>/nginx.conf` (one worker unless told, no access log) and returns its path. */
export function writeMinimalNginxConf(dir: string, servers: string, options: { workers?: number } = {}): string {
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(
        conf,
        [
            `worker_processes ${options.workers ?? 1};`,
            `pid ${path.join(dir, "nginx.pid")};`,
            `error_log ${path.join(dir, "error.log")} warn;`,
            "events { worker_connections 1024; }",
            "http {",
            "    access_log off;",
            "    default_type text/plain;",
            "    keepalive_requests 1000000;",
            ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `    ${kind}_temp_path ${path.join(tmp, kind)};`),
            servers,
            "}",
            "",
        ].join("\n"),
    );
    return conf;
}
