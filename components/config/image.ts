/**
 * Container image references: the one rule for every image a user names (model images, base images, gateway and
 * registry images) and the one rule for an image pinned by digest. Plain checks, no Pulumi.
 */
import { show } from "./checks";

/*
 * Docker image reference grammar (github.com/distribution/reference, regexp.go):
 *   reference := name [ ":" tag ] [ "@" digest ];  name := [domain "/"] path-component ["/" path-component]*
 *   domain := host [":" port];  path-component := [a-z0-9]+ (([._]|__|[-]+) [a-z0-9]+)*
 *   tag := [\w][\w.-]{0,127};  digest := algorithm ":" hex{32,}
 * (IPv6 hosts in brackets are left out: nobody names a model registry that way.)
 */
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const REPOSITORY = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(`^(${REPOSITORY})(?::[\\w][\\w.-]{0,127})?(?:@${DIGEST})?$`);
/** The name part of a reference is limited to 255 characters. */
const MAX_NAME_LENGTH = 255;
/** A reference that ends in a sha256 digest: what every replica and every rollback can rely on. */
const PINNED_BY_DIGEST = /@sha256:[0-9a-f]{64}$/;
const REPOSITORY_PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const REGISTRY_HOST = new RegExp(`^${DOMAIN}$`);

/** Whether `server` is a registry `host[:port]` (no scheme, no path): what goes before the first `/` of an image reference. */
export function isRegistryHost(server: unknown): server is string {
    return typeof server === "string" && REGISTRY_HOST.test(server);
}

/** Whether `image` is a Docker image reference: `[registry[:port]/]path[:tag][@digest]`. */
export function isImageReference(image: unknown): image is string {
    const match = typeof image === "string" ? IMAGE_REFERENCE.exec(image) : null;
    return match !== null && match[1].length <= MAX_NAME_LENGTH;
}

/** Throws unless `image` is an image reference, naming `field` and an `example` fit for it. */
export function validateImageReference(image: unknown, field = "image", example = "nginx:1.28.0"): asserts image is string {
    if (!isImageReference(image)) {
        throw new Error(
            `\`${field}\` must be an image reference such as \`${example}\` or \`registry/repo@sha256:<64 hex>\` ` +
                `(lower-case repository, tag of letters, digits, \`_\`, \`.\`, \`-\`), got ${show(image)}`,
        );
    }
}

/** Whether `image` is pinned by its sha256 digest (`…@sha256:<64 hex>`; a tag before the `@` is allowed). */
export function isPinnedByDigest(image: unknown): boolean {
    return typeof image === "string" && isImageReference(image) && PINNED_BY_DIGEST.test(image);
}

/**
 * Throws unless `image` is pinned by digest, so a pod never runs an image other than the one reviewed (tags move;
 * a new digest also rolls the Deployment).
 */
export function validateImageByDigest(image: unknown, field = "image"): void {
    if (!isPinnedByDigest(image)) {
        throw new Error(
            `\`${field}\` must be pinned by digest, \`registry/repo@sha256:<64 hex digits>\` (e.g. \`ModelImage.repoDigest\`), got ${show(image)}`,
        );
    }
}

/** Throws unless `repository` is a repository path inside a registry (`models/hello`), naming `field`. */
export function validateRepositoryPath(repository: unknown, field = "repository", example = "models/hello"): void {
    if (typeof repository !== "string" || !REPOSITORY_PATH.test(repository)) {
        throw new Error(`\`${field}\` must be a lower-case Docker repository path such as \`${example}\`, got ${show(repository)}`);
    }
}
