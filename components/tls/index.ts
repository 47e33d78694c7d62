export * from "./gatewayTls";
