export * from "./credentials";
