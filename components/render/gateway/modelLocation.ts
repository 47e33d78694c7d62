/** The nginx `location` of one model: its proxy to the model's upstream and, with a user list, its access check. */
import { MODEL_DEFAULTS } from "../../config/model";
import { modelHost } from "../../config/routing";
import { GatewayConfig, GatewayModel, GatewayRouting } from "./config";

/** The `location` of a model: `/{model}/…` proxied to its upstream, behind its user list if it has one. */
export function proxyLocation(model: GatewayModel, config: GatewayConfig): string[] {
    const routing = config.routing;
    const lines = [`location ^~ /${model.name}/ {`, `    set $plumberhub_model ${model.name};`];
    if (model.users) lines.push(`    auth_request /_plumberhub_acl/${model.name};`);
    if (routing.mode === "static") {
        // A URI part in proxy_pass strips the prefix; nginx re-escapes the normalized path.
        lines.push(`    proxy_pass http://plumberhub_model_${model.name}/;`);
    } else {
        lines.push(...dnsProxy(routing, `/${model.name}`, model.port));
    }
    lines.push(`}`);
    return lines;
}

/**
 * Prefix stripping + proxy_pass by name, resolved per request (a variable in proxy_pass forces it). `port` is a listed
 * model's own port; models joining from other stacks listen on the routing's port.
 */
export function dnsProxy(routing: Extract<GatewayRouting, { mode: "dns" }>, prefix: string, port?: number): string[] {
    const host = modelHost(routing.nameTemplate, "${plumberhub_model}");
    return [
        `    set $plumberhub_upstream_host "${host}";`,
        // rewrite…break + proxy_pass without URI: nginx sends the rewritten path, re-escaped.
        `    rewrite ^${prefix === "" ? "/[^/]+" : prefix}(/.*)$ $1 break;`,
        `    proxy_pass http://$plumberhub_upstream_host:${port ?? routing.port ?? MODEL_DEFAULTS.port};`,
    ];
}

/** The internal location `auth_request` asks whether the user may call the model. */
export function aclLocation(model: GatewayModel & { users: string[] }): string[] {
    return [
        `location = /_plumberhub_acl/${model.name} {`,
        `    internal;`,
        `    auth_basic off;`,
        `    if ($plumberhub_acl_${model.name.replace(/-/g, "_")} = 1) { return 204; }`,
        `    return 403;`,
        `}`,
    ];
}

/** The map from the basic-auth user to whether the model lets them in. */
export function aclMap(model: GatewayModel & { users: string[] }): string[] {
    return [
        `map $remote_user $plumberhub_acl_${model.name.replace(/-/g, "_")} {`,
        `    default 0;`,
        // Regex keys: plain map keys match case-insensitively, and "ALICE" must not pass for "alice".
        ...model.users.map((user) => `    "~^${user.replace(/\./g, "\\.")}$" 1;`),
        `}`,
    ];
}
