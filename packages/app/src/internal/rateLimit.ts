/**
 * Rate-limit bookkeeping: GitHub's `x-ratelimit-*` headers per credentials, and the spacing gate shared by every
 * client of one layer.
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
  if (remaining === undefined || reset === undefined) return undefined
  const limit = int(headers["x-ratelimit-limit"]) ?? remaining
  return {
    resource: headers["x-ratelimit-resource"] ?? "core",
    limit,
    remaining,
    used: int(headers["x-ratelimit-used"]) ?? limit - remaining,
    resetAt: new Date(reset * 1000)
  }
}

/**
 * How long until an exhausted bucket resets, measured on GitHub's clock (`reset - date`) so that a skewed local
 * clock does not matter, plus a second because both are whole seconds.
 *
 * @internal
 */
export const untilReset = (resetAt: Date, serverNow: number | undefined, localNow: number): number =>
  Math.max(0, resetAt.getTime() - (serverNow ?? localNow)) + 1000

interface Entry {
  readonly rateLimit: RateLimit
  /** Local time before which a request counting against this bucket would certainly be refused. */
  readonly blockedUntil: number
}

/**
 * The last seen state of each rate-limit resource for one credentials identity.
 *
 * @internal
 */
export class Buckets {
  private readonly entries = new Map<string, Entry>()

  record(rateLimit: RateLimit, serverNow: number | undefined, localNow: number): void {
    const blockedUntil = rateLimit.remaining > 0 ? 0 : localNow + untilReset(rateLimit.resetAt, serverNow, localNow)
    this.entries.set(rateLimit.resource, { rateLimit, blockedUntil })
  }

  get(resource: string): RateLimit | undefined {
    return this.entries.get(resource)?.rateLimit
  }

  blockedUntil(resource: string): number {
    return this.entries.get(resource)?.blockedUntil ?? 0
  }
}

/**
 * Slots for request starts: at least `requestGap` ms between any two, `writeGap` ms between two writes, none
 * before `pausedUntil` (a secondary rate limit being waited out). Reserving is one synchronous step, so fibers
 * cannot interleave inside it and plain fields suffice; slots are handed out in arrival order.
 *
 * @internal
 */
export class Gate {
  nextRequestAt = 0
  nextWriteAt = 0
  pausedUntil = 0

  constructor(readonly requestGap: number, readonly writeGap: number) {}

  get spaced(): boolean {
    return this.requestGap > 0 || this.writeGap > 0
  }

  /** Reserves the next slot at or after `now`; returns its start. */
  reserve(now: number, write: boolean): number {
    let start = Math.max(now, this.nextRequestAt, this.pausedUntil)
    if (write) start = Math.max(start, this.nextWriteAt)
    this.nextRequestAt = start + this.requestGap
    if (write) this.nextWriteAt = start + this.writeGap
    return start
  }

  pause(until: number): void {
    if (until > this.pausedUntil) this.pausedUntil = until
  }
}

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
