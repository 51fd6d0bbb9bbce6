/**
 * Rate-limit bookkeeping: GitHub's `x-ratelimit-*` and `retry-after` headers, and how long they hold an identity
 * back.
 */
import * as Duration from "effect/Duration"
import type { RateLimit } from "../HttpRequester.js"

/**
 * Milliseconds to wait from a `retry-after` header (delta seconds or an HTTP date).
 *
 * @internal
 */
export const parseRetryAfter = (value: string | undefined, serverNow: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isFinite(date) ? Math.max(0, date - serverNow) : undefined
}

/**
 * The server's time from a `date` header, if it is one.
 *
 * @internal
 */
export const parseDate = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  // every response carries one and it changes once a second: remember the last one parsed
  if (value === lastDate.text) return lastDate.millis
  const millis = Date.parse(value)
  lastDate = { text: value, millis: Number.isFinite(millis) ? millis : undefined }
  return lastDate.millis
}

let lastDate: { readonly text: string | undefined; readonly millis: number | undefined } = {
  text: undefined,
  millis: undefined
}

const int = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isInteger(n) ? n : undefined
}

/**
 * The rate-limit headers of a response, if it has them.
 *
 * @internal
 */
export const parseRateLimit = (headers: Readonly<Record<string, string | undefined>>): RateLimit | undefined => {
  const remaining = int(headers["x-ratelimit-remaining"])
  const reset = int(headers["x-ratelimit-reset"])
  if (remaining === undefined) return undefined
  const limit = int(headers["x-ratelimit-limit"]) ?? remaining
  const reading = {
    resource: headers["x-ratelimit-resource"] ?? "core",
    limit,
    remaining,
    used: int(headers["x-ratelimit-used"]) ?? limit - remaining
  }
  // a reading without its reset is still a reading (some proxies and GHES versions drop the header)
  return reset === undefined ? reading : { ...reading, resetAt: new Date(reset * 1000) }
}

/**
 * How long until an exhausted bucket resets, measured on GitHub's clock (`reset - date`) so that a skewed local
 * clock does not matter, plus a second because both are whole seconds.
 *
 * @internal
 */
export const untilReset = (resetAt: Date, serverNow: number | undefined, localNow: number): number =>
  Math.max(0, resetAt.getTime() - (serverNow ?? localNow)) + 1000

/**
 * A wait for messages, never understated: tenths of a second below 10 s (a 1.2 s backoff must not read "2 s"),
 * whole seconds above.
 *
 * @internal
 */
export const seconds = (millis: number): string =>
  millis < 10_000 ? `${Math.ceil(millis / 100) / 10} s` : `${Math.ceil(millis / 1000)} s`

/** @internal */
export const durationMillis = (duration: Duration.Duration): number => {
  const millis = Duration.toMillis(duration)
  return Number.isFinite(millis) ? millis : Number.POSITIVE_INFINITY
}

/** The least pause for a secondary limit GitHub gave no wait for (GitHub: "wait at least one minute"). */
const secondaryFloor = 60_000
/** Doubling stops here: an hour, the longest window GitHub counts in. */
const secondaryCeiling = 3_600_000

/**
 * How long a rate-limit answer holds back its whole identity (epoch ms on the local clock), and whether the
 * pause is one of the growing ones (a secondary limit without `retry-after` or reset). A primary limit without
 * `retry-after` pauses nothing here: its exhausted bucket holds back the requests that count against it.
 *
 * @internal
 */
export const pauseFor = (
  limited: { readonly kind: "primary" | "secondary" },
  headers: Readonly<Record<string, string | undefined>>,
  serverNow: number | undefined,
  localNow: number,
  streak: number
): { readonly until: number; readonly grew: boolean } | undefined => {
  const retryAfter = parseRetryAfter(headers["retry-after"], serverNow ?? localNow)
  if (retryAfter !== undefined) return { until: localNow + retryAfter, grew: false }
  if (limited.kind === "primary") return undefined
  // GitHub: "if x-ratelimit-remaining is 0, wait until x-ratelimit-reset; otherwise at least one minute"
  const reset = headers["x-ratelimit-remaining"] === "0" ? int(headers["x-ratelimit-reset"]) : undefined
  if (reset !== undefined) {
    return { until: localNow + untilReset(new Date(reset * 1000), serverNow, localNow), grew: false }
  }
  return { until: localNow + Math.min(secondaryCeiling, secondaryFloor * 2 ** streak), grew: true }
}
