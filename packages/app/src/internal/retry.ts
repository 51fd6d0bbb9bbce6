/**
 * GitHub's retry rules: which failures may be repeated, and how long to wait before doing so.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Interval from "effect/ScheduleInterval"
import type { RetryInput } from "../HttpRequester.js"

const retriedStatuses = new Set([500, 502, 503, 504])

/**
 * Whether repeating the failed attempt is safe and may help. A write that is not idempotent is repeated only
 * when GitHub provably did not process it: a refused connection, or a rate limit (GitHub refuses those
 * before doing anything), never after a 5xx or a timeout, where it may have been done already.
 *
 * @internal
 */
export const isRetryable = (error: RetryInput, idempotent: boolean): boolean => {
  switch (error._tag) {
    case "GithubRateLimited":
      return true
    case "GithubTransportError":
      return error.notProcessed || (idempotent && error.reason !== "Other")
    case "GithubServerError":
      return idempotent && error.status !== undefined && retriedStatuses.has(error.status)
    default:
      return false
  }
}

/**
 * @internal
 */
export interface PolicyOptions {
  readonly attempts: number
  readonly baseDelay: number
  readonly maxDelay: number
  readonly secondaryDelay: number
}

/** @internal */
export const defaultPolicyOptions: PolicyOptions = {
  attempts: 5,
  baseDelay: 1_000,
  maxDelay: 30_000,
  secondaryDelay: 60_000
}

interface State {
  readonly retries: number
  readonly secondary: number
}

/**
 * The wait before the next attempt, in milliseconds: what GitHub asked for (`retry-after`, else the primary
 * limit's reset), else at least a minute for a secondary limit (doubling on repeats), else exponential backoff
 * with ±20 % jitter.
 *
 * @internal
 */
export const delayFor = (
  error: RetryInput,
  now: number,
  state: State,
  random: number,
  options: PolicyOptions
): number => {
  if (error._tag === "GithubRateLimited") {
    if (error.retryAfter !== undefined) return Duration.toMillis(error.retryAfter)
    if (error.kind === "primary" && error.resetAt !== undefined) {
      return Math.max(0, error.resetAt.getTime() - now) + 1000
    }
    return options.secondaryDelay * 2 ** state.secondary
  }
  const backoff = Math.min(options.maxDelay, options.baseDelay * 2 ** state.retries)
  return Math.round(backoff * (0.8 + 0.4 * random))
}

/**
 * The default GitHub-aware retry schedule; its output is the delay it chose.
 *
 * @internal
 */
export const policy = (options: PolicyOptions): Schedule.Schedule<Duration.Duration, RetryInput> =>
  Schedule.makeWithState<State, RetryInput, Duration.Duration>(
    { retries: 0, secondary: 0 },
    (now, error, state) =>
      state.retries >= options.attempts - 1
        ? Effect.succeed([state, Duration.zero, ScheduleDecision.done] as const)
        : Effect.map(Random.next, (random) => {
          const delay = delayFor(error, now, state, random, options)
          const secondary = error._tag === "GithubRateLimited" && error.kind === "secondary"
          return [
            { retries: state.retries + 1, secondary: state.secondary + (secondary ? 1 : 0) },
            Duration.millis(delay),
            ScheduleDecision.continueWith(Interval.after(now + delay))
          ] as const
        })
  )
