/**
 * Scriptable failures for the GitHub simulator: what a route answers instead of (or before) its normal reply.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/**
 * One scripted failure. A fault is consumed by each request it applies to (see `GithubSimulator.fault`).
 *
 * - `Status`: an error status (e.g. 500, 502, 503) with a GitHub-shaped JSON body.
 * - `SecondaryRateLimit`: 403 (or 429) "You have exceeded a secondary rate limit...", `retry-after` when given.
 * - `PrimaryRateLimit`: exhausts the caller's rate-limit bucket until `resetAfter` from now and answers 403
 *   "API rate limit exceeded for ..." (later requests on the same bucket are refused until the reset).
 * - `Delay`: waits (Effect `sleep`, so `TestClock` drives it in-process), then answers normally.
 * - `ConnectionReset`: the server destroys the socket; in-process the request fails with a transport error.
 * - `TruncatedJson` / `MalformedJson`: the normal reply with its body cut in half / replaced by invalid JSON.
 * - `Html`: an HTML page, as a GHES host answers a path outside `/api/v3`.
 * - `ReplicationLag`: an installation token younger than `duration` is refused with 401 "Bad credentials".
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  Status: { readonly status: number; readonly message: string | undefined }
  SecondaryRateLimit: { readonly status: 403 | 429; readonly retryAfter: Duration.Duration | undefined }
  PrimaryRateLimit: { readonly resetAfter: Duration.Duration }
  Delay: { readonly duration: Duration.Duration }
  ConnectionReset: {}
  TruncatedJson: {}
  MalformedJson: {}
  Html: { readonly status: number }
  ReplicationLag: { readonly duration: Duration.Duration }
}>

const Fault = Data.taggedEnum<Fault>()

/**
 * Pattern matching and guards over `Fault`.
 *
 * @since 0.1.0
 * @category guards
 */
export const { $is, $match } = Fault

/**
 * An error status with GitHub's JSON error body (`message` defaults to the status text).
 *
 * @since 0.1.0
 * @category constructors
 */
export const status = (status: number, options?: { readonly message?: string | undefined }): Fault =>
  Fault.Status({ status, message: options?.message })

/**
 * GitHub's secondary rate limit: 403 (default) or 429, with `retry-after` in seconds when `retryAfter` is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const secondaryRateLimit = (options?: {
  readonly retryAfter?: Duration.DurationInput | undefined
  readonly status?: 403 | 429 | undefined
}): Fault =>
  Fault.SecondaryRateLimit({
    status: options?.status ?? 403,
    retryAfter: options?.retryAfter === undefined ? undefined : Duration.decode(options.retryAfter)
  })

/**
 * 429 Too Many Requests with the secondary rate limit message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tooManyRequests = (options?: { readonly retryAfter?: Duration.DurationInput | undefined }): Fault =>
  secondaryRateLimit({ status: 429, retryAfter: options?.retryAfter })

/**
 * Exhausts the primary rate limit of the caller's bucket: 403, `x-ratelimit-remaining: 0`, reset after
 * `resetAfter` (default 60 seconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const primaryRateLimit = (options?: { readonly resetAfter?: Duration.DurationInput | undefined }): Fault =>
  Fault.PrimaryRateLimit({ resetAfter: Duration.decode(options?.resetAfter ?? "60 seconds") })

/**
 * Waits `duration` before answering normally (to trigger client timeouts).
 *
 * @since 0.1.0
 * @category constructors
 */
export const delay = (duration: Duration.DurationInput): Fault => Fault.Delay({ duration: Duration.decode(duration) })

/**
 * @since 0.1.0
 * @category constructors
 */
export const connectionReset: Fault = Fault.ConnectionReset()

/**
 * @since 0.1.0
 * @category constructors
 */
export const truncatedJson: Fault = Fault.TruncatedJson()

/**
 * @since 0.1.0
 * @category constructors
 */
export const malformedJson: Fault = Fault.MalformedJson()

/**
 * An HTML page (status 200 by default), like a GHES host's web UI answering an API path without `/api/v3`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const html = (options?: { readonly status?: number | undefined }): Fault =>
  Fault.Html({ status: options?.status ?? 200 })

/**
 * GitHub's replication lag: tokens younger than `duration` are refused with 401 "Bad credentials".
 *
 * @since 0.1.0
 * @category constructors
 */
export const replicationLag = (duration: Duration.DurationInput): Fault =>
  Fault.ReplicationLag({ duration: Duration.decode(duration) })
