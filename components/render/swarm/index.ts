export * from "./plan";
export * from "./serviceOptions";
export * from "./files";
export * from "./modelService";
export * from "./gatewayService";
export * from "./registryService";
export * from "./stack";
export * from "./composeFile";
