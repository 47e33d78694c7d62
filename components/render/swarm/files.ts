/** Swarm configs and secrets: immutable, so named by their contents. */
import * as crypto from "crypto";
import { SwarmFile, SwarmFileMount, SwarmFileRef } from "./plan";

/** Length of the content hash in config/secret names: 48 bits, names stay short and never collide by chance. */
const NAME_HASH_LENGTH = 12;

/** Docker refuses config and secret names longer than this. */
const MAX_FILE_NAME_LENGTH = 64;

/** `{prefix}-{key}-{hash}`: swarm configs/secrets are immutable, so the name carries the content. */
export function contentName(prefix: string, key: string, contents: string): string {
    const hash = crypto.createHash("sha256").update(contents).digest("hex").slice(0, NAME_HASH_LENGTH);
    const name = `${prefix}-${key.replace(/[^A-Za-z0-9_.-]/g, "-")}-${hash}`;
    if (name.length > MAX_FILE_NAME_LENGTH) {
        throw new Error(
            `\`prefix\` ${JSON.stringify(prefix)} is too long: the swarm object name \`${name}\` has ${name.length} characters, Docker allows ${MAX_FILE_NAME_LENGTH}`,
        );
    }
    return name;
}

/** A config or secret of the plan, named by its contents. */
export function swarmFile(prefix: string, key: string, folder: "configs" | "secrets", contents: string): SwarmFile {
    return { key, name: contentName(prefix, key, contents), fileName: `${folder}/${key}`, contents };
}

/** `file` mounted at `target` with `mode`. */
export function mount(file: SwarmFileRef, target: string, mode: number): SwarmFileMount {
    return { source: file.key, name: file.name, target, mode };
}
