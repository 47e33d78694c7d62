export * from "./swarmProvider";
export * from "./swarmNetwork";
export * from "./swarmRegistry";
export * from "./swarmModel";
export * from "./swarmGateway";
