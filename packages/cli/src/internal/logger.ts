/**
 * The CLI's logger: the library's retry log lines as one `retrying ...` line each on stderr, other warnings and
 * errors as `warn: ...`, never anything on stdout (where a token may be printed).
 */
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

// The library logs a retry as `GitHub <METHOD> <route>: <what failed>; attempt <n>[ of <m>][,] [next [try] ]in <s>`.
const retryLine =
  /^GitHub (\S+) (\S+): (.+?)[;,]\s*attempt (\d+)(?:\s*(?:of|\/)\s*(\d+))?,?\s*(?:\(?\s*)?(?:next(?: try)?\s+)?in ([\d.]+ ?(?:ms|s|min|seconds?|minutes?))\)?\.?$/s

/**
 * `retrying GET /app: connection refused (attempt 2 of 5, next in 1.2 s)`, or undefined for any other message.
 *
 * @internal
 */
export const retryMessage = (text: string): string | undefined => {
  const match = retryLine.exec(text.trim())
  if (match === null) return undefined
  const [, method, route, what, attempt, of, wait] = match
  return `retrying ${method} ${route}: ${oneLine(what!)} (attempt ${attempt}${
    of === undefined ? "" : ` of ${of}`
  }, next in ${wait})`
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const render = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => typeof part === "string" ? part : String(part))
    .join(" ")

/**
 * Retry lines at any level (the library logs the first transport retry at warn, later ones at debug: the CLI
 * shows each), other messages from `minimum` up. With `--log-level` given, every message that reaches the logger
 * is shown, since @effect/cli has filtered them already.
 *
 * @internal
 */
export const make = (minimum: LogLevel.LogLevel): Logger.Logger<unknown, string | undefined> =>
  Logger.make(({ logLevel, message }) => {
    const text = render(message)
    const retry = retryMessage(text)
    if (retry !== undefined) return retry
    if (LogLevel.lessThan(logLevel, minimum)) return undefined
    return `${logLevel.label.toLowerCase()}: ${oneLine(text)}`
  })

/**
 * The logger writing to stderr, skipping what `make` drops.
 *
 * @internal
 */
export const stderr = (minimum: LogLevel.LogLevel): Logger.Logger<unknown, void> =>
  Logger.make((options) => {
    const line = make(minimum).log(options)
    if (line !== undefined) Logger.withConsoleError(Logger.succeed(line)).log(options)
  })
