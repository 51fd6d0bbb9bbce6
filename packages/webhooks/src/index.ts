/**
 * @since 0.1.0
 */
export * as Deliveries from "./Deliveries.js"
export * as DeliveryStore from "./DeliveryStore.js"
export * as Verify from "./Verify.js"
export * as WebhookError from "./WebhookError.js"
export * as WebhookEvent from "./WebhookEvent.js"
export * as Webhooks from "./Webhooks.js"
export * as WebhookSchemas from "./WebhookSchemas.js"
