export * as NodeHttpTransport from "./NodeHttpTransport.js"
export * as NodeIntegration from "./NodeIntegration.js"
export * as NodeIntegrationClient from "./NodeIntegrationClient.js"
