// Pure renderers: plain values in, file contents out. No Pulumi imports.
export {};
export * from "./modelContainer";
export * from "./swarm";
export * from "./htpasswd";
export * from "./kubernetes";
export * from "./gateway";
export * from "./landingPage";
export * from "./hubConfigInputs";
