/**
 * The Redis connection every store of this package shares: a scoped ioredis client (closed with the layer), the
 * key prefix that names one app on one GitHub host, and the policy for when Redis cannot be reached.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import type { RedisOptions } from "ioredis"
import type { ConnectionOptions } from "node:tls"

/**
 * What a store does when a Redis command fails: `"fail"` with the store's typed error, or `"memory"`: carry on with
 * this process's own state (a warning log when it starts and ends, and the `effect_github_redis_fallbacks`
 * counter). In memory each process mints at most once per key and never loses a token it minted.
 *
 * @since 0.1.0
 * @category models
 */
export type FailurePolicy = "fail" | "memory"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user:password@]host:port/db`, or `rediss://` for TLS. Default `redis://127.0.0.1:6379`. */
  readonly url?: string | undefined
  /**
   * Prefix of every key and channel; give each app (and GitHub host) its own, e.g. `"github:123456:"`.
   * Default `"effect-github:"`.
   */
  readonly prefix?: string | undefined
  /** TLS: `true`, or node:tls options (CA, servername); `rediss://` URLs turn it on as well. */
  readonly tls?: boolean | ConnectionOptions | undefined
  /** How long one command may take before it fails (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Default `"fail"`. */
  readonly onFailure?: FailurePolicy | undefined
  /** Further ioredis options (they win over the ones above). */
  readonly redisOptions?: RedisOptions | undefined
}

/**
 * A Redis command failed or the connection is down. Stores turn it into their own error (or fall back).
 *
 * @since 0.1.0
 * @category errors
 */
export class RedisError extends Schema.TaggedError<RedisError>("@effect-github/redis/RedisError")(
  "@effect-github/redis/RedisError",
  { operation: Schema.String, description: Schema.String }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Redis failed (${this.operation}): ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly redis: Redis
  readonly prefix: string
  readonly onFailure: FailurePolicy
  /** Runs one command (one round trip), failing fast while disconnected; counted and timed. */
  readonly run: <A>(operation: string, f: (redis: Redis) => Promise<A>) => Effect.Effect<A, RedisError>
  /**
   * Reports a fallback to memory: the counter every time, a warning when fallbacks start (and `recovered` when a
   * command succeeds again).
   */
  readonly fellBack: (store: string, error: RedisError) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RedisClient extends Context.Tag("@effect-github/redis/RedisClient")<RedisClient, Service>() {}

/**
 * Round trips to Redis (one per store operation).
 *
 * @since 0.1.0
 * @category metrics
 */
export const roundTrips = Metric.counter("effect_github_redis_round_trips", {
  description: "Commands (scripts) sent to Redis",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const latency = Metric.histogram(
  "effect_github_redis_latency_ms",
  MetricBoundaries.exponential({ start: 0.125, factor: 2, count: 14 }),
  "Time of one Redis round trip (milliseconds)"
)

/**
 * @since 0.1.0
 * @category metrics
 */
export const errors = Metric.counter("effect_github_redis_errors", {
  description: "Redis commands that failed",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const fallbacks = Metric.counter("effect_github_redis_fallbacks", {
  description: "Store operations answered from process memory because Redis failed",
  incremental: true
})

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : "unknown error"

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = Duration.toMillis(Duration.decode(options.timeout ?? "5 seconds"))
    const tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(options.url ?? "redis://127.0.0.1:6379", {
          lazyConnect: true,
          commandTimeout: timeout,
          connectTimeout: Math.max(timeout, 1000),
          maxRetriesPerRequest: 1,
          retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
          ...(tls !== undefined ? { tls } : {}),
          ...options.redisOptions
        })
        // errors reach callers through their commands; without a listener ioredis prints every reconnect failure
        client.on("error", () => {})
        return client
      }),
      (client) =>
        Effect.promise(() =>
          client.status === "ready" ? client.quit().then(() => undefined, () => client.disconnect()) : (
            client.disconnect(), Promise.resolve()
          )
        )
    )
    // connect now (bounded by connectTimeout); an unreachable Redis is the policy's business, not the layer's
    yield* Effect.promise(() => redis.connect().then(() => undefined, () => undefined))
    let degraded = false
    const run = <A>(operation: string, f: (redis: Redis) => Promise<A>): Effect.Effect<A, RedisError> =>
      Effect.suspend(() => {
        if (redis.status !== "ready") {
          return Effect.fail(new RedisError({ operation, description: `not connected (${redis.status})` }))
        }
        return Effect.tryPromise({
          try: () => f(redis),
          catch: (error) => new RedisError({ operation, description: describe(error) })
        })
      }).pipe(
        Effect.timed,
        Effect.tap(([elapsed]) => latency(Effect.succeed(Duration.toMillis(elapsed)))),
        Effect.map(([, a]) => a),
        Effect.tap(() => {
          if (!degraded) return Effect.void
          degraded = false
          return Effect.logWarning("Redis answers again: the stores share state through it once more")
        }),
        Effect.tapError(() => Metric.increment(errors)),
        Metric.trackAll(roundTrips, 1)
      )
    const fellBack = (store: string, error: RedisError): Effect.Effect<void> =>
      Effect.zipRight(
        Metric.increment(fallbacks),
        Effect.suspend(() => {
          if (degraded) return Effect.void
          degraded = true
          return Effect.logWarning(
            `Redis failed (${error.operation}: ${error.description}): ${store} falls back to this process's memory`
          )
        })
      )
    return RedisClient.of({
      redis,
      prefix: options.prefix ?? "effect-github:",
      onFailure: options.onFailure ?? "fail",
      run,
      fellBack
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RedisClient> => Layer.scoped(RedisClient, make(options))

/**
 * The options from the environment: `REDIS_URL`, `REDIS_KEY_PREFIX`, `REDIS_TLS` (true/false),
 * `REDIS_TIMEOUT` (a duration, e.g. `500 millis`), `REDIS_ON_FAILURE` (`fail` or `memory`).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.string("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
  prefix: Config.string("REDIS_KEY_PREFIX").pipe(Config.withDefault("effect-github:")),
  tls: Config.boolean("REDIS_TLS").pipe(Config.withDefault(false)),
  timeout: Config.duration("REDIS_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5))),
  onFailure: Config.literal("fail", "memory")("REDIS_ON_FAILURE").pipe(Config.withDefault("fail" as const))
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (options: Config.Config<Options> = config) =>
  Layer.scoped(RedisClient, Effect.flatMap(options, make))
