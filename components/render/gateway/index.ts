export * from "./config";
export * from "./validation";
export * from "./modelLocation";
export * from "./nginxConf";
export * from "./edgeConf";
export * from "./acmeRenewal";
export * from "./metrics";
