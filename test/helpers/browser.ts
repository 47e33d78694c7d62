/** Debian's chromium, headless through playwright-core (no browser is downloaded), trusting one test server key. */
import { X509Certificate, createHash } from "crypto";
import * as fs from "fs";
import { Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Launches chromium trusting exactly the key of the server certificate at `certificatePath` (chromium has no flag for
 * an extra CA without an NSS db). Throws naming the package when chromium is missing.
 */
export async function launchChromium(certificatePath: string): Promise<Browser> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    const spki = new X509Certificate(fs.readFileSync(certificatePath)).publicKey.export({ type: "spki", format: "der" });
    const pin = createHash("sha256").update(spki).digest("base64");
    return chromium.launch({
        executablePath: CHROMIUM,
        args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            `--ignore-certificate-errors-spki-list=${pin}`,
        ],
    });
}
