export * from "./hubParts";
export * from "./modelHub";
export * from "./readHubConfig";
