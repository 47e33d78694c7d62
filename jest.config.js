// Three projects: `unit` (pure functions and Pulumi mocks, seconds), `real` (real Docker, nginx, R/plumber, openssl,
// chromium; minutes) and `engine` (the real Pulumi engine deploying the stacks; minutes, plus the engine build the
// first time). `npm test` runs all three, one file at a time (`--runInBand`): real and engine tests share the
// machine's Docker engine and swarm, and must not overlap. Each project can run alone.
// ts-jest transpiles each file alone (tsconfig `isolatedModules`); type-checking is `tsc --noEmit`, once
const tsJest = ["ts-jest", { diagnostics: false }];
const common = { preset: "ts-jest", testEnvironment: "node", transform: { "^.+\\.ts$": tsJest } };

module.exports = {
    projects: [
        { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
        { ...common, displayName: "real", testMatch: ["<rootDir>/test/real/**/*.test.ts"], slowTestThreshold: 120 },
        { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"], slowTestThreshold: 600 },
    ],
};
