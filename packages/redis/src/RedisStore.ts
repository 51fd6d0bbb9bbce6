/**
 * One layer for a fleet: the identity store, the token store and the delivery dedupe set on one Redis connection.
 *
 * @example
 * ```ts
 * import { NodeIntegration } from "@effect-github/node"
 * import { RedisStore } from "@effect-github/redis"
 *
 * // GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, REDIS_URL, REDIS_KEY_PREFIX, REDIS_TOKEN_KEYS from the environment
 * const GitHub = NodeIntegration.layerConfig({ store: RedisStore.layerConfig() })
 * ```
 *
 * @since 0.1.0
 */
import type * as IdentityStore from "@effect-github/app/IdentityStore"
import type * as TokenStore from "@effect-github/app/TokenStore"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DeliveryDedupe from "./DeliveryDedupe.js"
import * as RedisClient from "./RedisClient.js"
import * as RedisIdentityStore from "./RedisIdentityStore.js"
import * as RedisTokenStore from "./RedisTokenStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends RedisClient.Options, RedisTokenStore.Options {}

/**
 * @since 0.1.0
 * @category models
 */
export type Services = IdentityStore.IdentityStore | TokenStore.TokenStore | DeliveryDedupe.DeliveryDedupe

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Services, TokenStore.TokenStoreError> =>
  Layer.mergeAll(RedisIdentityStore.layer, RedisTokenStore.layer(options), DeliveryDedupe.layer).pipe(
    Layer.provide(RedisClient.layer(options))
  )

/**
 * The options from the environment: `RedisClient.config` (`REDIS_URL`, `REDIS_KEY_PREFIX`, `REDIS_TLS`,
 * `REDIS_TIMEOUT`, `REDIS_ON_FAILURE`) and `REDIS_TOKEN_KEYS` (comma-separated, newest first); options given here
 * win.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  client: RedisClient.config,
  keys: Config.array(Config.redacted(), "REDIS_TOKEN_KEYS")
}).pipe(Config.map(({ client, keys }): Options => ({ ...client, keys })))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Partial<Options> = {}
): Layer.Layer<Services, TokenStore.TokenStoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config, (fromEnv) => layer({ ...fromEnv, ...definedOnly(options) })))

const definedOnly = (options: Partial<Options>): Partial<Options> =>
  Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<Options>
