export * from "./objects";
export * from "./modelObjects";
export * from "./gatewayObjects";
export * from "./manifests";
