// ESLint: typescript-eslint's recommended type-checked rules on every TypeScript file, plain recommended rules on the
// JavaScript ones. Formatting is Prettier's (`npm run format`); nothing here is about layout.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", ".plumberhub/", "test-artifacts/", "examples/**/node_modules/"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
    {
        // The example imports `plumberhub` as a user would; its check config maps that to this repository.
        files: ["examples/team-stack/**/*.ts"],
        languageOptions: { parserOptions: { projectService: false, project: "examples/team-stack/tsconfig.check.json" } },
    },
    // `const { dropped, ...rest } = value` is how a field is left out.
    { rules: { "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }] } },
    {
        // Untyped by nature, and checked by shape where read: recorded mock inputs, parsed JSON and engine events in
        // tests and benches; the resource properties @pulumi/policy hands the policy rules (`any`).
        files: ["test/**/*.ts", "bench/**/*.ts", "policy/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
    {
        // Programs are loaded with require() inside jest.isolateModules, after their mocks are in place.
        files: ["test/**/*.ts", "bench/**/*.ts"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // The few JavaScript files (configs, the ts-node hook, a schema checker) are not in the TypeScript project.
        files: ["**/*.js", "**/*.mjs"],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: {
            ...tseslint.configs.disableTypeChecked.languageOptions,
            globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly" },
        },
        // CommonJS by necessity: jest and ts-node load them with require().
        rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
    },
);
