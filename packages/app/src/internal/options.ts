/**
 * The checks every service's options share, written once: a Duration option in a range, and GitHub's `perPage`.
 * Each returns the value or a description of what is wrong; the caller wraps it in its own typed error.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/**
 * A Duration option in milliseconds, within `[min, max]` (milliseconds; default 0 and finite). A negative or
 * non-numeric number, an unparseable value and anything outside the range are refused; `undefined` gives the
 * fallback. The failure says what was got: `"-5 s"` or `"an invalid duration"`.
 *
 * @internal
 */
export const durationMillis = (
  input: unknown,
  fallback: Duration.DurationInput,
  range: { readonly min?: number | undefined; readonly max?: number | undefined } = {}
): Either.Either<number, { readonly got: string }> => {
  const value = input === undefined ? fallback : input
  const duration = typeof value === "number" && !(value >= 0) ? Option.none() : Duration.decodeUnknown(value)
  if (Option.isNone(duration)) return Either.left({ got: "an invalid duration" })
  const millis = Duration.toMillis(duration.value)
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  return millis >= min && millis <= max ? Either.right(millis) : Either.left({ got: `${millis / 1000} s` })
}

/**
 * GitHub's page size: an integer from 1 to 100; `undefined` gives the fallback.
 *
 * @internal
 */
export const perPage = (input: unknown, fallback: number): Either.Either<number, string> => {
  const value = input === undefined ? fallback : input
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 100
    ? Either.right(value)
    : Either.left(`must be an integer from 1 to 100, got ${typeof value === "object" ? typeof value : String(value)}`)
}
