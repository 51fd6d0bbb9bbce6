export * as NodeHttpTransport from "./NodeHttpTransport.js"
