/**
 * GitHub's HTTP rules in one client shared by every credentials: base URL, headers, auth, spacing, retry, rate
 * limits, errors, redirects, pagination.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { GithubRequestError, GithubUnauthorized, InvalidArgument, JwtError } from "./GithubError.js"
import type * as IdentityStore from "./IdentityStore.js"
import * as internal from "./internal/httpRequester.js"
import * as retry from "./internal/retry.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Default `https://api.github.com`. A host without a path (`github.example.com`, `https://github.example.com`)
   * is GHES: `https://github.example.com/api/v3`; except `github.com` (→ `https://api.github.com`), `api.*`
   * hosts (GHE.com) and loopback hosts (simulators), whose API is at the root. A URL with a path is kept.
   */
  readonly baseUrl?: string | undefined
  /** Plain `http:` to a non-loopback host is refused unless this is true. */
  readonly allowInsecureHttp?: boolean | undefined
  readonly userAgent?: string | undefined
  /** Per HTTP exchange (each redirect hop), body included; default 15 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Default 30, 1..100. */
  readonly perPage?: number | undefined
  /**
   * `n` attempts in all of the default GitHub-aware policy (`retrySchedule`, 5 attempts), a Schedule replacing
   * it, or `false` (`true` is the default). Whatever the schedule, only retryable failures reach it, and a write
   * that is not `idempotent` is repeated only when GitHub provably did not process it.
   */
  readonly retry?: number | Schedule.Schedule<unknown, RetryInput> | boolean | undefined
  /**
   * Default 0.25 s between the starts of any two requests of one identity (the app, or one installation); 0
   * turns it off.
   */
  readonly secondsBetweenRequests?: number | undefined
  /** Default 1 s between two content-creating writes of one identity; 0 turns it off. */
  readonly secondsBetweenWrites?: number | undefined
  /**
   * Points one identity may spend in any sliding minute: GitHub's secondary limit for REST is 900 (GET, HEAD and
   * OPTIONS cost 1 point, other methods 5). Default 900; 0 turns it off.
   */
  readonly pointsPerMinute?: number | undefined
  /** Content-creating requests of one identity in any sliding minute; GitHub's limit and the default: 80. */
  readonly contentCreatingPerMinute?: number | undefined
  /** Content-creating requests of one identity in any sliding hour; GitHub's limit and the default: 500. */
  readonly contentCreatingPerHour?: number | undefined
  /**
   * Requests of one identity in flight at once in this process. GitHub allows no more than 100 concurrent
   * requests, shared by REST and GraphQL and every process of the app; the default, 50, leaves the other half
   * to them.
   */
  readonly maxConcurrentRequests?: number | undefined
  /** Default `2022-11-28`. */
  readonly apiVersion?: string | undefined
  /**
   * The longest rate-limit wait accepted (before sending, or before a retry) instead of failing at once with
   * `GithubRateLimited`; default 15 minutes (a primary limit resets within the hour: failing early lets the
   * caller decide), 0 never waits for a rate limit.
   */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
}

/**
 * What a retry schedule sees: the failed attempt's error.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryInput = GithubRequestError

/**
 * Who a request acts as. The requester asks for the `Authorization` header value before each attempt; after a
 * 401 that `shouldRefresh` accepts it asks once more with `fresh: true` and retries once.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  /** The accounting identity GitHub counts these requests against (`IdentityStore.app`, `.installation`). */
  readonly identity: IdentityStore.Identity
  /** The whole header value, e.g. `Bearer <jwt>` or `token <token>`. */
  readonly authorization: (
    fresh: boolean
  ) => Effect.Effect<
    Redacted.Redacted<string>,
    GithubRequestError | InvalidArgument | JwtError
  >
  readonly shouldRefresh: (error: GithubUnauthorized) => boolean
  /** Fed the server's time from every response's `date` header (AppAuth learns clock skew from it). */
  readonly observeServerTime?: ((serverTime: Date) => Effect.Effect<void>) | undefined
  /**
   * How much longer a refusal (401, 403) may be GitHub's replication lag for freshly minted credentials; while
   * it is positive such a refusal is repeated after a short wait (at most 1 s) instead of failing.
   */
  readonly replicationLag?: Effect.Effect<Duration.Duration> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD"

/**
 * A request by route template: `path` is e.g. `/repos/{owner}/{repo}/installation` and `params` fill it in,
 * each encoded so that no value can change the route.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly method: Method
  readonly path: string
  readonly params?: Readonly<Record<string, string | number>> | undefined
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>> | undefined
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Overrides the default idempotency of the method (minting a token is a POST that may be retried). */
  readonly idempotent?: boolean | undefined
  /**
   * Whether GitHub counts it as content-creating (spaced by `secondsBetweenWrites`, counted against the
   * content-creating limits). Default: POST, PATCH and PUT are. A token mint or revoke is authentication
   * traffic: pass `false`.
   */
  readonly contentCreating?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  readonly resource: string
  readonly limit: number
  readonly remaining: number
  readonly used: number
  /** `x-ratelimit-reset`; absent when the response carried the reading without it. */
  readonly resetAt?: Date | undefined
}

/**
 * Errors of a request: GitHub's, or input refused before sending.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestError = GithubRequestError | InvalidArgument | JwtError

/**
 * One page of a list endpoint; `totalCount` is the body's `total_count` when it has one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly totalCount: Option.Option<number>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PaginateOptions {
  /** The array's name in a wrapped body; without it a body with exactly one array field is unwrapped. */
  readonly key?: string | undefined
  /** Default the layer's `perPage`. */
  readonly perPage?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Resolved options (base URL normalised, defaults filled). */
  readonly baseUrl: string
  readonly perPage: number
  /** Sends a request and decodes the JSON body with `schema`. */
  readonly request: <A, I, R>(
    request: Request,
    schema: Schema.Schema<A, I, R>
  ) => Effect.Effect<A, RequestError, R>
  /** Sends a request and returns status, headers and JSON (or `null` for an empty body). */
  readonly requestJson: (request: Request) => Effect.Effect<RawResponse, RequestError>
  /**
   * Streams every item of a list endpoint, following `Link: rel="next"` as given. `key` names the array in
   * wrapped bodies (`{ total_count, repositories: [...] }`); without it the body is the array.
   */
  readonly paginate: <A, I, R>(
    request: Request,
    item: Schema.Schema<A, I, R>,
    options?: PaginateOptions
  ) => Stream.Stream<A, RequestError, R>
  /** Like `paginate`, a page at a time, with the body's `total_count`. */
  readonly paginatePages: <A, I, R>(
    request: Request,
    item: Schema.Schema<A, I, R>,
    options?: PaginateOptions
  ) => Stream.Stream<Page<A>, RequestError, R>
  /** The rate-limit state last seen for a resource (default `core`) of this requester's identity. */
  readonly rateLimit: (resource?: string) => Effect.Effect<Option.Option<RateLimit>>
  /** The accounting identity this requester acts as. */
  readonly identity: IdentityStore.Identity
  /**
   * A requester acting with these credentials. Spacing, budgets, pauses and primary readings are those of the
   * credentials' identity, shared by every requester of the layer acting as it.
   */
  readonly withCredentials: (credentials: Credentials) => Service
}

/**
 * @since 0.1.0
 * @category tags
 */
export class HttpRequester extends Context.Tag("@effect-github/app/HttpRequester")<HttpRequester, Service>() {}

/**
 * The defaults, PyGithub's where it has one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: {
  readonly baseUrl: string
  readonly userAgent: string
  readonly timeout: Duration.Duration
  readonly perPage: number
  readonly secondsBetweenRequests: number
  readonly secondsBetweenWrites: number
  readonly apiVersion: string
  readonly maxRateLimitWait: Duration.Duration
  readonly maxRedirects: number
  readonly pointsPerMinute: number
  readonly contentCreatingPerMinute: number
  readonly contentCreatingPerHour: number
  readonly maxConcurrentRequests: number
} = internal.defaults

/**
 * The default retry policy, GitHub-aware: waits `retry-after` when given; for an exhausted primary limit, until
 * `x-ratelimit-reset` plus a second (measured on GitHub's clock); for a secondary limit at least
 * `secondaryDelay` (60 s), doubling on repeats; otherwise exponential backoff from `baseDelay` (1 s, ±20 %
 * jitter) capped at `maxDelay` (30 s). Stops after `attempts` attempts in all (5). Its output is the delay.
 *
 * @since 0.1.0
 * @category retry
 */
export const retrySchedule = (options?: {
  readonly attempts?: number | undefined
  readonly baseDelay?: Duration.DurationInput | undefined
  readonly maxDelay?: Duration.DurationInput | undefined
  readonly secondaryDelay?: Duration.DurationInput | undefined
}): Schedule.Schedule<Duration.Duration, RetryInput> => {
  const d = retry.defaultPolicyOptions
  const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
    input === undefined ? fallback : Duration.toMillis(input)
  return retry.policy({
    attempts: options?.attempts ?? d.attempts,
    baseDelay: millis(options?.baseDelay, d.baseDelay),
    maxDelay: millis(options?.maxDelay, d.maxDelay),
    secondaryDelay: millis(options?.secondaryDelay, d.secondaryDelay)
  })
}

/**
 * Builds the requester on the `HttpClient` in context; fails with `InvalidArgument` naming a bad option.
 * Per-identity state lives in the `IdentityStore` in context, else in memory of this layer, shared by the
 * requesters derived from it (`withCredentials`).
 *
 * @example
 * ```ts
 * import { HttpRequester } from "@effect-github/app"
 * import { Effect, Schema } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const github = yield* HttpRequester.HttpRequester
 *   return yield* github.request(
 *     { method: "GET", path: "/repos/{owner}/{repo}", params: { owner: "octocat", repo: "hello-world" } },
 *     Schema.Struct({ id: Schema.Number })
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service, InvalidArgument, HttpClient.HttpClient> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpRequester, InvalidArgument, HttpClient.HttpClient> =>
  Layer.effect(HttpRequester, make(options))

/**
 * The options that can come from configuration (a retry `Schedule` cannot).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "retry"> {
  readonly retry?: number | boolean | undefined
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<ConfigOptions>
): Layer.Layer<HttpRequester, InvalidArgument | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(HttpRequester, Effect.flatMap(Config.unwrap(options), make))
