export * from "./buildContext";
export * from "./modelImage";
