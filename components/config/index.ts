export * from "./model";
export * from "./validateModel";
export * from "./image";
export * from "./credentials";
export * from "./tls";
export * from "./aks";
export * from "./environment";
export * from "./stackConfig";
