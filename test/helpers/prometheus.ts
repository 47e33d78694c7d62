/** Reading the Prometheus text format in tests (what `/metrics` answers); `promtool check metrics` lints it for real. */

/** One sample line: metric name, labels, value. */
export interface Sample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

/** The samples of a text-format exposition (comments skipped). Throws on a line it cannot read. */
export function parseExposition(text: string): Sample[] {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
        const labels: Record<string, string> = {};
        for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
        samples.push({ name: match[1], labels, value: match[3] === "+Inf" ? Infinity : Number(match[3]) });
    }
    return samples;
}
