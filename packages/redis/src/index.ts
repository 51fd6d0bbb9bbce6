/**
 * @since 0.1.0
 */
export * as DeliveryDedupe from "./DeliveryDedupe.js"
export * as RedisClient from "./RedisClient.js"
export * as RedisIdentityStore from "./RedisIdentityStore.js"
export * as RedisStore from "./RedisStore.js"
export * as RedisTokenStore from "./RedisTokenStore.js"
