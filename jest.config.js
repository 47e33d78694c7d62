// Two projects: `unit` (pure functions and Pulumi mocks, seconds) and `real` (real Docker, nginx,
// R/plumber, openssl, chromium; minutes). `npm test` runs both; each can run alone.
const tsJest = ["ts-jest", { isolatedModules: true }]; // type-checking is `tsc --noEmit`, once
const common = { preset: "ts-jest", testEnvironment: "node", transform: { "^.+\\.ts$": tsJest } };

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "real", testMatch: ["<rootDir>/test/real/**/*.test.ts"], slowTestThreshold: 120 },
  ],
};
