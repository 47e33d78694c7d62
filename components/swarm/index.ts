// `plumberhub/swarm`: the Docker Swarm components (the `swarm` target of ModelHub is made of these).
export * from "./swarmProvider";
export * from "./swarmNetwork";
export * from "./swarmRegistry";
export * from "./swarmModel";
export * from "./swarmGateway";
