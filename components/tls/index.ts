export * from "./serverCertificate";
