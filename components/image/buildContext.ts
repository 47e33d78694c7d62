import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_BASE_IMAGE, renderModelContainerFiles } from "../render/modelContainer";
import { Model } from "../config/model";

/** Files and folders of a model's source that never belong in an image. */
const IGNORED_NAMES = new Set([".git", ".Rproj.user", ".Rhistory", ".RData", ".DS_Store", "node_modules"]);

export interface StageBuildContextArgs {
    /** Model name: the context goes to `{outRoot}/{name}`. */
    name: string;
    /** The model's folder (with `plumber.R`); copied to `model/` inside the context. */
    sourceDir: string;
    /** Rendered files for the context root (`Dockerfile`, `entrypoint.R`, …), by file name. */
    files: Record<string, string>;
    /** Folder that holds every model's context; keep it stable and project-relative so previews show no diff. */
    outRoot: string;
    /** Extra values that change the built image without being files (e.g. build args); part of the hash. */
    hashExtras?: Record<string, string>;
}

export interface BuildContext {
    /** Absolute path of the staged context. */
    dir: string;
    /** sha256 (hex) of every path and byte in the context, plus `hashExtras`: same input → same hash. */
    contentHash: string;
}

/**
 * Writes a model's Docker build context: the rendered files at the root and the model's folder under `model/`.
 * The folder is rebuilt from scratch each time so a file deleted from the model disappears from the image too.
 */
export function stageBuildContext(args: StageBuildContextArgs): BuildContext {
    const dir = path.resolve(args.outRoot, args.name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, contents] of Object.entries(args.files)) {
        fs.writeFileSync(path.join(dir, file), contents);
    }
    copyTree(path.resolve(args.sourceDir), path.join(dir, "model"));
    return { dir, contentHash: hashTree(dir, args.hashExtras ?? {}) };
}

/** Length of a model image's content-hash tag: 64 bits, enough that two contexts never share a tag by chance. */
export const MODEL_IMAGE_TAG_LENGTH = 16;

/** Default platform of model images: what AKS and most swarm nodes run. */
export const DEFAULT_IMAGE_PLATFORM = "linux/amd64";

/** Default folder, relative to the Pulumi project, of the staged model build contexts. */
export const DEFAULT_CONTEXT_ROOT = path.join(".plumberhub", "build");

export interface ModelImageContextOptions {
    /** Base image with R (`BASE_IMAGE` build arg). Default `DEFAULT_BASE_IMAGE`. */
    baseImage?: string;
    /** Target platform. Default `DEFAULT_IMAGE_PLATFORM`. */
    platform?: string;
    /** Folder holding every model's context. Default `DEFAULT_CONTEXT_ROOT`. The tag does not depend on it. */
    contextRoot?: string;
}

/** A staged model build context and the tag its image gets. */
export interface ModelImageContext extends BuildContext {
    /** Content-hash tag (`MODEL_IMAGE_TAG_LENGTH` hex characters): same model code, packages, base image and platform → same tag. */
    tag: string;
    baseImage: string;
    platform: string;
}

/**
 * Stages a model's build context (rendered Dockerfile + entrypoint, the model's folder under `model/`) and computes
 * its image tag. `ModelImage` builds from it; `npm run render` uses it to name the image a change produces.
 * Writes files (the context) but is otherwise a function of its inputs.
 */
export function stageModelImageContext(
    model: Pick<Model, "name" | "path" | "packages" | "port">,
    options: ModelImageContextOptions = {},
): ModelImageContext {
    if (!model.path) throw new Error(`\`model.path\` is required to stage a build context, but model \`${model.name}\` has none`);
    const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
    const platform = options.platform ?? DEFAULT_IMAGE_PLATFORM;
    const context = stageBuildContext({
        name: model.name,
        sourceDir: model.path,
        files: renderModelContainerFiles({ packages: model.packages, port: model.port }),
        outRoot: options.contextRoot ?? DEFAULT_CONTEXT_ROOT,
        hashExtras: { BASE_IMAGE: baseImage, platform },
    });
    return { ...context, tag: context.contentHash.slice(0, MODEL_IMAGE_TAG_LENGTH), baseImage, platform };
}

function copyTree(from: string, to: string): void {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
        if (IGNORED_NAMES.has(entry.name)) continue;
        const source = path.join(from, entry.name);
        const target = path.join(to, entry.name);
        // stat follows links: a linked file or folder is copied as what it points to
        const stats = fs.statSync(source);
        if (stats.isDirectory()) copyTree(source, target);
        else if (stats.isFile()) fs.copyFileSync(source, target);
    }
}

/** Hash of relative paths, executable bits and contents, in sorted order so it is the same on every machine. */
export function hashTree(root: string, extras: Record<string, string> = {}): string {
    const hash = crypto.createHash("sha256");
    for (const file of listFiles(root)) {
        const absolute = path.join(root, file);
        const executable = (fs.statSync(absolute).mode & 0o111) !== 0;
        const contents = fs.readFileSync(absolute);
        hash.update(`${file.split(path.sep).join("/")}\0${executable ? "x" : "-"}\0${contents.length}\0`);
        hash.update(contents);
    }
    for (const key of Object.keys(extras).sort()) hash.update(`extra\0${key}\0${extras[key]}\0`);
    return hash.digest("hex");
}

function listFiles(root: string, prefix = ""): string[] {
    const entries = fs.readdirSync(path.join(root, prefix), { withFileTypes: true });
    return entries
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .flatMap((entry) => {
            const relative = path.join(prefix, entry.name);
            return entry.isDirectory() ? listFiles(root, relative) : [relative];
        });
}
