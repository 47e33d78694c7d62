export * from "./hubParts";
export * from "./modelHub";
export * from "./readHubConfig";
export * from "./platformStack";
export * from "./teamModel";
