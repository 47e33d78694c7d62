// Two projects: `unit` (pure functions and Pulumi mocks, seconds) and `real` (real Docker, nginx,
// R/plumber, openssl, chromium; minutes). `npm test` runs both; each can run alone.
// ts-jest transpiles each file alone (tsconfig `isolatedModules`); type-checking is `tsc --noEmit`, once
const tsJest = ["ts-jest", { diagnostics: false }];
const common = { preset: "ts-jest", testEnvironment: "node", transform: { "^.+\\.ts$": tsJest } };

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "real", testMatch: ["<rootDir>/test/real/**/*.test.ts"], slowTestThreshold: 120 },
  ],
};
