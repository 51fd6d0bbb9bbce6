/**
 * One call from PyGithub's `GithubIntegration(...)` options to a running GitHub App client on Node. Closing the
 * layer's scope is `close()`: connections closed, background refresh stopped, nothing left open.
 *
 * @example
 * ```ts
 * import { Integration } from "@effect-github/app"
 * import { NodeIntegration } from "@effect-github/node"
 * import { Effect, Redacted } from "effect"
 *
 * const GitHub = NodeIntegration.layer({
 *   appId: 123456,
 *   privateKey: Redacted.make(process.env.GITHUB_APP_PRIVATE_KEY ?? ""),
 *   timeout: "10 seconds",
 *   poolSize: 20
 * })
 *
 * const program = Effect.flatMap(Integration.Integration, (github) => github.getApp())
 * Effect.runPromise(Effect.provide(program, GitHub))
 * ```
 *
 * @since 0.1.0
 */
import type * as AppAuth from "@effect-github/app/AppAuth"
import type { InvalidArgument, JwtError, PrivateKeyError } from "@effect-github/app/GithubError"
import type * as HttpRequester from "@effect-github/app/HttpRequester"
import type * as IdentityStore from "@effect-github/app/IdentityStore"
import type * as InstallationTokens from "@effect-github/app/InstallationTokens"
import * as Integration from "@effect-github/app/Integration"
import type * as TokenStore from "@effect-github/app/TokenStore"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as NodeHttpTransport from "./NodeHttpTransport.js"

/**
 * Every option of PyGithub's `GithubIntegration`, by its name here, plus the token cache's.
 *
 * | PyGithub | here |
 * | --- | --- |
 * | `auth=AppAuth(app_id, private_key, jwt_expiry, jwt_issued_at, jwt_algorithm)` | `appId`, `privateKey`, `jwtExpiry`, `jwtIssuedAt`, `algorithm` |
 * | `base_url` | `baseUrl` |
 * | `timeout` | `timeout` |
 * | `user_agent` | `userAgent` |
 * | `per_page` | `perPage` |
 * | `verify` | `verify` (`false`, or a CA bundle path) |
 * | `retry` | `retry` (attempts, a `Schedule`, or `false`) |
 * | `pool_size` | `poolSize` |
 * | `seconds_between_requests` | `secondsBetweenRequests` |
 * | `seconds_between_writes` | `secondsBetweenWrites` |
 * | `lazy` | `lazy` |
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Integration.AppOptions, NodeHttpTransport.Options {
  /** PyGithub's name for `algorithm`. */
  readonly jwtAlgorithm?: string | undefined
}

/**
 * Where the client keeps what a fleet shares: a layer of `IdentityStore` and/or `TokenStore`, e.g.
 * `RedisStore.layerConfig()` from `@effect-github/redis`. Default: this process's memory.
 *
 * @since 0.2.0
 * @category models
 */
export interface StoreOption<E = never> {
  readonly store?: Layer.Layer<IdentityStore.IdentityStore | TokenStore.TokenStore, E> | undefined
}

const withStore = <A, E1, E2>(self: Layer.Layer<A, E1>, store: Layer.Layer<any, E2> | undefined) =>
  store === undefined ? self : Layer.provide(self, store) as Layer.Layer<A, E1 | E2>

/**
 * @since 0.1.0
 * @category models
 */
export type Services =
  | Integration.Integration
  | AppAuth.AppAuth
  | HttpRequester.HttpRequester
  | InstallationTokens.InstallationTokens

const transportOptions = (options: Partial<Options>): NodeHttpTransport.Options => ({
  poolSize: options.poolSize,
  verify: options.verify,
  proxy: options.proxy,
  noProxy: options.noProxy,
  compression: options.compression,
  maxBodyBytes: options.maxBodyBytes
})

const appOptions = <O extends Partial<Options>>(options: O): O => ({
  ...options,
  algorithm: options.algorithm ?? options.jwtAlgorithm
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = <E = never>(
  options: Options & StoreOption<E>
): Layer.Layer<Services, PrivateKeyError | JwtError | InvalidArgument | E> =>
  withStore(
    Integration.layerApp(appOptions(options)).pipe(Layer.provide(NodeHttpTransport.layer(transportOptions(options)))),
    options.store
  )

/**
 * Like `layer`, with the credentials from the environment (`GITHUB_APP_ID` or `GITHUB_APP_CLIENT_ID`,
 * `GITHUB_APP_PRIVATE_KEY` or `GITHUB_APP_PRIVATE_KEY_FILE`, `GITHUB_API_URL`); options given here win.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <E = never>(
  options: Partial<Options> & StoreOption<E> = {}
): Layer.Layer<Services, PrivateKeyError | JwtError | InvalidArgument | ConfigError.ConfigError | E> =>
  withStore(
    Integration.layerConfig(appOptions(options)).pipe(
      Layer.provide(Layer.merge(NodeHttpTransport.layer(transportOptions(options)), NodeFileSystem.layer))
    ),
    options.store
  )
