// Lets a plain `node` child process require .ts files: transpile only, like ts-jest with
// isolatedModules (type-checking is `tsc --noEmit`). Used by the npm scripts (render, bench:*) and by
// runMockedProgram in the tests.
const fs = require("fs");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    module._compile(outputText, filename);
};
