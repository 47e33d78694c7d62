export * from "./config";
export * from "./render";
export * from "./image";
export * from "./swarm";
export * from "./credentials";
export * from "./tls";
export * from "./aks";
export * from "./hub";
