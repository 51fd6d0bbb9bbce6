/**
 * The implementation of `HttpRequester`: one platform `HttpClient` wrapped with GitHub's rules.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { constTrue } from "effect/Function"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import {
  GithubDecodeError,
  GithubForbidden,
  GithubRateLimited,
  type GithubRequestError,
  GithubTransportError,
  GithubUnauthorized,
  GithubUnexpectedStatus,
  InvalidArgument
} from "../GithubError.js"
import type {
  Credentials,
  Method,
  Options,
  Page,
  RawResponse,
  Request,
  RequestError,
  RetryInput,
  Service
} from "../HttpRequester.js"
import * as IdentityStore from "../IdentityStore.js"
import * as FastDecode from "./fastDecode.js"
import { durationMillis, parseDate, parseRateLimit, pauseFor, seconds, untilReset } from "./rateLimit.js"
import { type Reply, requestInfo, statusError, successBody } from "./response.js"
import { defaultPolicyOptions, isRetryable, policy } from "./retry.js"
import { fillRoute, isAllowedProtocol, nextLink, normalizeBaseUrl, queryString, resourceOf } from "./route.js"
import { liveClock, timeoutFail } from "./timeout.js"
import { type Accounting, laneOf, storeFailure, withTurn } from "./turn.js"

/**
 * What a client may offer under `Symbol.for("@effect-github/HttpClient/executeWithin")` (the lean undici client
 * of packages/node does): a request whose response, body included, fails with `onTimeout()` after `millis` of
 * real time. One timer instead of a forked fiber racing a sleep; used only under the live clock.
 */
type ExecuteWithin = <E>(
  request: HttpClientRequest.HttpClientRequest,
  millis: number,
  onTimeout: () => E
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | E>

const executeWithinKey = Symbol.for("@effect-github/HttpClient/executeWithin")

const executeWithinOf = (client: HttpClient.HttpClient): ExecuteWithin | undefined => {
  const f = (client as unknown as Record<symbol, unknown>)[executeWithinKey]
  return typeof f === "function" ? f as ExecuteWithin : undefined
}

/** @internal */
export const defaults = {
  baseUrl: "https://api.github.com",
  userAgent: "effect-github/0.1.0",
  timeout: Duration.seconds(15),
  perPage: 30,
  secondsBetweenRequests: 0.25,
  secondsBetweenWrites: 1,
  apiVersion: "2022-11-28",
  maxRateLimitWait: Duration.minutes(15),
  maxRedirects: 3,
  pointsPerMinute: 900,
  contentCreatingPerMinute: 80,
  contentCreatingPerHour: 500,
  maxConcurrentRequests: 50
} as const

/** @internal */
export interface Resolved {
  readonly baseUrl: string
  readonly origin: string
  readonly allowInsecureHttp: boolean
  readonly userAgent: string
  readonly timeout: Duration.Duration
  readonly perPage: number
  readonly retry: Schedule.Schedule<unknown, RetryInput> | undefined
  /** Attempts in all when the policy is the default one with a count; unknown for a caller's Schedule. */
  readonly retryAttempts: number | undefined
  readonly requestGap: number
  readonly writeGap: number
  readonly apiVersion: string
  readonly maxRateLimitWait: number
  readonly pointsPerMinute: number
  readonly contentCreatingPerMinute: number
  readonly contentCreatingPerHour: number
  readonly maxConcurrentRequests: number
}

const bad = (argument: string, description: string) => Either.left(new InvalidArgument({ argument, description }))

const durationOption = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration,
  allowZero: boolean
): Either.Either<Duration.Duration, InvalidArgument> => {
  if (input === undefined) return Either.right(fallback)
  // Duration clamps negative numbers to zero; a negative option is a mistake worth reporting
  if (typeof input === "number" && !(input >= 0)) return bad(name, "must not be negative")
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return bad(name, "is not a duration")
  const millis = Duration.toMillis(decoded.value)
  if (!Number.isFinite(millis) || millis < 0 || (!allowZero && millis === 0)) {
    return bad(name, `must be a finite duration${allowZero ? "" : " above zero"}`)
  }
  return Either.right(decoded.value)
}

const secondsOption = (name: string, input: number | undefined, fallback: number) =>
  input === undefined
    ? Either.right(fallback * 1000)
    : typeof input === "number" && Number.isFinite(input) && input >= 0
    ? Either.right(Math.round(input * 1000))
    : bad(name, "must be a number of seconds, 0 or more")

const countOption = (name: string, input: number | undefined, fallback: number, min: number, max: number) =>
  input === undefined
    ? Either.right(fallback)
    : Number.isInteger(input) && input >= min && input <= max
    ? Either.right(input)
    : bad(name, `must be a whole number from ${min} to ${max}, got ${input}`)

// eslint-disable-next-line no-control-regex
const headerUnsafe = /[\u0000-\u001f\u007f]/

/**
 * Options with defaults filled in, or the first bad one.
 *
 * @internal
 */
export const resolveOptions = (options: Options = {}): Either.Either<Resolved, InvalidArgument> =>
  Either.gen(function*() {
    const allowInsecureHttp = options.allowInsecureHttp === true
    const baseUrl = yield* normalizeBaseUrl(options.baseUrl, allowInsecureHttp)
    const userAgent = options.userAgent ?? defaults.userAgent
    if (typeof userAgent !== "string" || userAgent.trim() === "" || headerUnsafe.test(userAgent)) {
      return yield* bad("userAgent", "must be a non-empty string without control characters (GitHub requires one)")
    }
    const apiVersion = options.apiVersion ?? defaults.apiVersion
    if (typeof apiVersion !== "string" || !/^[\w.-]+$/.test(apiVersion)) {
      return yield* bad("apiVersion", "must look like 2022-11-28")
    }
    const perPage = options.perPage ?? defaults.perPage
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      return yield* bad("perPage", `must be an integer from 1 to 100, got ${perPage}`)
    }
    const timeout = yield* durationOption("timeout", options.timeout, defaults.timeout, false)
    const maxRateLimitWait = yield* durationOption(
      "maxRateLimitWait",
      options.maxRateLimitWait,
      defaults.maxRateLimitWait,
      true
    )
    const requestGap = yield* secondsOption(
      "secondsBetweenRequests",
      options.secondsBetweenRequests,
      defaults.secondsBetweenRequests
    )
    const writeGap = yield* secondsOption(
      "secondsBetweenWrites",
      options.secondsBetweenWrites,
      defaults.secondsBetweenWrites
    )
    const retry = yield* retryOption(options.retry)
    const unlimited = Number.MAX_SAFE_INTEGER
    const pointsPerMinute = yield* countOption(
      "pointsPerMinute",
      options.pointsPerMinute,
      defaults.pointsPerMinute,
      0,
      unlimited
    )
    const contentCreatingPerMinute = yield* countOption(
      "contentCreatingPerMinute",
      options.contentCreatingPerMinute,
      defaults.contentCreatingPerMinute,
      0,
      unlimited
    )
    const contentCreatingPerHour = yield* countOption(
      "contentCreatingPerHour",
      options.contentCreatingPerHour,
      defaults.contentCreatingPerHour,
      0,
      unlimited
    )
    const maxConcurrentRequests = yield* countOption(
      "maxConcurrentRequests",
      options.maxConcurrentRequests,
      defaults.maxConcurrentRequests,
      1,
      unlimited
    )
    return {
      baseUrl,
      origin: new URL(baseUrl).origin,
      allowInsecureHttp,
      userAgent,
      timeout,
      perPage,
      retry,
      retryAttempts: options.retry === undefined || options.retry === true
        ? defaultPolicyOptions.attempts
        : typeof options.retry === "number"
        ? options.retry
        : undefined,
      requestGap,
      writeGap,
      apiVersion,
      maxRateLimitWait: durationMillis(maxRateLimitWait),
      pointsPerMinute,
      contentCreatingPerMinute,
      contentCreatingPerHour,
      maxConcurrentRequests
    }
  })

const retryOption = (
  retry: Options["retry"]
): Either.Either<Schedule.Schedule<unknown, RetryInput> | undefined, InvalidArgument> => {
  if (retry === undefined || retry === true) return Either.right(policy(defaultPolicyOptions))
  if (retry === false) return Either.right(undefined)
  if (typeof retry === "number") {
    return Number.isInteger(retry) && retry >= 1
      ? Either.right(retry === 1 ? undefined : policy({ ...defaultPolicyOptions, attempts: retry }))
      : bad("retry", `must be a whole number of attempts, 1 or more, got ${retry}`)
  }
  return Schedule.isSchedule(retry)
    ? Either.right(retry)
    : bad("retry", "must be a number of attempts, a Schedule, or a boolean")
}

/** What one client of a layer shares with every client derived from it. */
interface Shared {
  readonly options: Resolved
  readonly client: HttpClient.HttpClient
  readonly executeWithin: ExecuteWithin | undefined
  readonly baseRequest: HttpClientRequest.HttpClientRequest
  readonly accounting: Accounting
  readonly decoders: WeakMap<object, Decoder>
  readonly arrayDecoders: WeakMap<object, Decoder>
}

interface Prepared {
  readonly method: Method
  readonly route: string
  readonly url: string
  readonly body: HttpBody.HttpBody | undefined
  readonly headers: Record<string, string> | undefined
  readonly idempotent: boolean
  readonly contentCreating: boolean
  readonly points: number
  readonly resource: string
}

interface Received extends Reply {
  readonly body: unknown
}

/** A bound on repeats for replication lag, whatever `replicationLag` answers. */
const maxLagRepeats = 10

const isLagRefusal = (error: RequestError): error is GithubUnauthorized | GithubForbidden =>
  error._tag === "GithubUnauthorized" ||
  (error._tag === "GithubForbidden" && /resource not accessible by integration/i.test(error.githubMessage ?? ""))

const withLagHint = (error: GithubUnauthorized | GithubForbidden): GithubUnauthorized | GithubForbidden => {
  const hint = "GitHub kept refusing a freshly minted installation token for the whole replication-lag window: " +
    "either GitHub's replication is slower than usual (allow a longer replication-lag window) or the token lacks access."
  return error._tag === "GithubUnauthorized"
    ? new GithubUnauthorized({ ...error, hint })
    : new GithubForbidden({ ...error, hint })
}
const writes = new Set<Method>(["POST", "PATCH", "PUT", "DELETE"])
const contentCreatingMethods = new Set<Method>(["POST", "PATCH", "PUT"])
const onePoint = new Set<string>(["GET", "HEAD", "OPTIONS"])
const redirects = new Set([301, 302, 307, 308])
const retryInputTags = new Set([
  "GithubTransportError",
  "GithubUnauthorized",
  "GithubForbidden",
  "GithubNotFound",
  "GithubRateLimited",
  "GithubValidationFailed",
  "GithubServerError",
  "GithubUnexpectedStatus",
  "GithubDecodeError"
])

const errorCode = (cause: unknown): string | undefined => {
  for (let current = cause, depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    const errors = (current as { errors?: unknown }).errors
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : (current as { cause?: unknown }).cause
  }
  return undefined
}

// Failures of the connection itself: nothing reached GitHub
const notSentCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])
// The connection dropped or stalled before a response: what undici reports when the server closes or resets the
// socket (`UND_ERR_SOCKET`: "other side closed"), or the OS gives up on it (`ETIMEDOUT`, at connect or later).
// GitHub may have processed the request, but repeating a read is safe.
const droppedCodes = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "ETIMEDOUT"])
const tlsCode = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/

const transportError = (
  p: Prepared,
  error: HttpClientError.HttpClientError
): GithubTransportError => {
  const info = { method: p.method, route: p.route }
  if (error._tag === "ResponseError") {
    return new GithubTransportError({
      ...info,
      reason: "Body",
      notProcessed: false,
      description: error.cause instanceof Error
        ? `reading the body failed: ${error.cause.message}`
        : "reading the body failed"
    })
  }
  if (error.reason !== "Transport") {
    return new GithubTransportError({ ...info, reason: "Other", notProcessed: true, description: error.reason })
  }
  const code = errorCode(error.cause)
  const message = error.cause instanceof Error ? error.cause.message : String(error.cause)
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(message)) {
    return new GithubTransportError({
      ...info,
      reason: "Other",
      notProcessed: true,
      description: "TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER): the server speaks plain HTTP on this " +
        "port, or the base URL is wrong"
    })
  }
  if (code !== undefined && tlsCode.test(code)) {
    return new GithubTransportError({
      ...info,
      reason: "Other",
      notProcessed: true,
      description: `TLS certificate verification failed (${code}): give the server's CA bundle, or disable verify`
    })
  }
  const notProcessed = code !== undefined && notSentCodes.has(code)
  return new GithubTransportError({
    ...info,
    reason: notProcessed || (code !== undefined && droppedCodes.has(code)) ? "Connection" : "Other",
    notProcessed,
    description: code === undefined || message.includes(code) ? message : `${code}: ${message}`
  })
}

const withWait = (error: GithubRateLimited, wait: number): GithubRateLimited =>
  error.retryAfter !== undefined || error.resetAt !== undefined
    ? error
    : new GithubRateLimited({
      ...(error.method === undefined ? {} : { method: error.method }),
      ...(error.route === undefined ? {} : { route: error.route }),
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
      ...(error.githubMessage === undefined ? {} : { githubMessage: error.githubMessage }),
      ...(error.documentationUrl === undefined ? {} : { documentationUrl: error.documentationUrl }),
      ...(error.resource === undefined ? {} : { resource: error.resource }),
      kind: error.kind,
      retryAfter: Duration.millis(wait)
    })

const withoutCredentials = (headers: Record<string, string>): Record<string, string> => {
  const { authorization: _authorization, cookie: _cookie, ...rest } = headers
  return rest
}

const describe = (error: RetryInput): string => {
  switch (error._tag) {
    case "GithubRateLimited":
      return error.kind === "primary"
        ? `primary rate limit (${error.resource ?? "core"}) exhausted`
        : "secondary rate limit"
    case "GithubTransportError":
      return error.reason === "Timeout" ? "timed out" : `transport error (${error.description})`
    default:
      return `status ${error.status ?? "?"}`
  }
}

let native: Tracer.Tracer | undefined
/** Effect's built-in tracer, which records spans but exports nothing. @internal */
export const nativeTracer = (): Tracer.Tracer => native ??= Effect.runSync(Effect.tracer)

/**
 * @internal
 */
export const make = (options?: Options): Effect.Effect<Service, InvalidArgument, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const resolved = yield* resolveOptions(options)
    // The platform client's own span would record the full URL and headers; ours records the route template
    const given = yield* HttpClient.HttpClient
    const client = HttpClient.withTracerDisabledWhen(given, constTrue)
    const baseRequest = HttpClientRequest.get(resolved.baseUrl).pipe(
      HttpClientRequest.setHeaders({
        accept: "application/vnd.github+json",
        "x-github-api-version": resolved.apiVersion,
        "user-agent": resolved.userAgent
      })
    )
    const storeInContext = yield* Effect.serviceOption(IdentityStore.IdentityStore)
    const store = Option.isSome(storeInContext) ? storeInContext.value : yield* IdentityStore.memory
    const shared: Shared = {
      options: resolved,
      client,
      executeWithin: executeWithinOf(given),
      baseRequest,
      accounting: {
        store,
        limits: {
          requestGap: resolved.requestGap,
          writeGap: resolved.writeGap,
          pointsPerMinute: resolved.pointsPerMinute,
          contentPerMinute: resolved.contentCreatingPerMinute,
          contentPerHour: resolved.contentCreatingPerHour
        },
        concurrency: resolved.maxConcurrentRequests,
        maxRateLimitWait: resolved.maxRateLimitWait,
        lanes: new Map()
      },
      decoders: new WeakMap(),
      arrayDecoders: new WeakMap()
    }
    return makeService(shared, undefined)
  })

/** A schema's decoders, built once: the fast path (when it can answer) and Schema's own. */
interface Decoder {
  readonly fast: ((input: unknown) => Option.Option<unknown>) | undefined
  readonly slow: (input: unknown) => Effect.Effect<any, ParseResult.ParseError, any>
  readonly decode: (input: unknown) => Effect.Effect<any, ParseResult.ParseError, any>
}

const cached = (cache: WeakMap<object, Decoder>, schema: Schema.Schema.Any, build: () => Schema.Schema.Any) => {
  let decoder = cache.get(schema)
  if (decoder === undefined) {
    const target = build() as Schema.Schema<unknown, unknown, unknown>
    const slow = Schema.decodeUnknown(target)
    // the same result for what it is sure of, about twice as fast; the rest (and every error) goes to Schema
    const fast = FastDecode.make(target.ast)
    decoder = {
      fast,
      slow,
      decode: fast === undefined ? slow : (input) => {
        const value = fast(input)
        return Option.isSome(value) ? Effect.succeed(value.value) : slow(input)
      }
    }
    cache.set(schema, decoder)
  }
  return decoder
}

/** The identity of requests sent without credentials (GitHub counts those per address). */
const unauthenticated = "unauthenticated"

const makeService = (shared: Shared, credentials: Credentials | undefined): Service => {
  const { accounting, options } = shared
  const { store } = accounting
  const identity = credentials?.identity ?? unauthenticated
  const timeoutMillis = Duration.toMillis(options.timeout)

  const prepare = (request: Request, extraQuery?: Record<string, string>): Effect.Effect<Prepared, InvalidArgument> =>
    Effect.suspend(() => {
      const path = fillRoute(request.path, request.params)
      if (Either.isLeft(path)) return Effect.fail(path.left)
      let headers: Record<string, string> | undefined
      if (request.headers !== undefined) {
        headers = {}
        for (const key of Object.keys(request.headers)) headers[key.toLowerCase()] = request.headers[key]!
      }
      const method = request.method
      const write = writes.has(method)
      const contentCreating = request.contentCreating ?? contentCreatingMethods.has(method)
      const prepared = (body: HttpBody.HttpBody | undefined): Prepared => ({
        method,
        route: request.path,
        url: options.baseUrl + path.right + queryString(request.query, extraQuery),
        body,
        headers,
        idempotent: request.idempotent ?? !write,
        contentCreating,
        points: onePoint.has(method) ? 1 : 5,
        resource: resourceOf(request.path)
      })
      if (request.body === undefined) return Effect.succeed(prepared(undefined))
      return HttpBody.json(request.body).pipe(
        Effect.mapBoth({
          onFailure: () => new InvalidArgument({ argument: "body", description: "cannot be encoded as JSON" }),
          onSuccess: prepared
        })
      )
    })

  const turn = <A, E>(p: Prepared, self: Effect.Effect<A, E>) =>
    withTurn(accounting, {
      identity,
      method: p.method,
      route: p.route,
      points: p.points,
      contentCreating: p.contentCreating,
      resource: p.resource
    }, self)

  const exchange = (
    p: Prepared,
    url: string,
    authorization: Redacted.Redacted<string> | undefined,
    clock: Clock.Clock
  ): Effect.Effect<Reply, GithubTransportError> => {
    let request = HttpClientRequest.setUrl(shared.baseRequest, url)
    if (p.method !== "GET") request = HttpClientRequest.setMethod(request, p.method)
    if (p.headers !== undefined) request = HttpClientRequest.setHeaders(request, p.headers)
    if (authorization !== undefined) {
      request = HttpClientRequest.setHeader(request, "authorization", Redacted.value(authorization))
    }
    if (p.body !== undefined) request = HttpClientRequest.setBody(request, p.body)
    const onTimeout = () =>
      new GithubTransportError({
        method: p.method,
        route: p.route,
        reason: "Timeout",
        notProcessed: false,
        description: `no complete response within ${seconds(timeoutMillis)}`
      })
    const toReply = (response: HttpClientResponse.HttpClientResponse) =>
      Effect.map(response.text, (text): Reply => ({
        method: p.method,
        route: p.route,
        status: response.status,
        headers: response.headers,
        text
      }))
    const executeWithin = shared.executeWithin
    return executeWithin !== undefined && clock === liveClock()
      ? executeWithin(request, timeoutMillis, onTimeout).pipe(
        Effect.flatMap(toReply),
        Effect.catchAll((error) =>
          Effect.fail(error instanceof GithubTransportError ? error : transportError(p, error))
        )
      )
      : timeoutFail(
        shared.client.execute(request).pipe(
          Effect.flatMap(toReply),
          Effect.catchAll((error) => Effect.fail(transportError(p, error)))
        ),
        timeoutMillis,
        onTimeout
      )
  }

  // Records what a GitHub response tells about rate limits and the server's clock: the primary reading, and a
  // pause of the whole identity for a rate-limit answer, whether or not the request will be retried.
  const observe = (reply: Reply, span: Tracer.Span | undefined, clock: Clock.Clock): Effect.Effect<void> => {
    const serverNow = parseDate(reply.headers.date)
    const rateLimit = parseRateLimit(reply.headers)
    const localNow = clock.unsafeCurrentTimeMillis()
    span?.attribute("http.response.status_code", reply.status)
    const effects: Array<Effect.Effect<void, IdentityStore.IdentityStoreError>> = []
    if (rateLimit !== undefined) {
      const blockedUntil = rateLimit.remaining > 0
        ? 0
        : localNow + (rateLimit.resetAt === undefined ? 60_000 : untilReset(rateLimit.resetAt, serverNow, localNow))
      effects.push(store.record(identity, rateLimit, blockedUntil))
      span?.attribute("github.ratelimit.remaining", rateLimit.remaining)
    }
    const lane = laneOf(accounting, identity)
    const limited = reply.status === 403 || reply.status === 429
      ? statusError(reply, options.baseUrl, localNow)
      : undefined
    const pause = limited?._tag === "GithubRateLimited"
      ? pauseFor(limited, reply.headers, serverNow, localNow, lane.secondaryStreak)
      : undefined
    if (pause !== undefined) {
      if (pause.grew) lane.secondaryStreak++
      effects.push(store.pause(identity, pause.until))
    } else if (reply.status < 400 && lane.secondaryStreak > 0) {
      lane.secondaryStreak = 0
    }
    const observeServerTime = credentials?.observeServerTime
    if (serverNow !== undefined && observeServerTime !== undefined) effects.push(observeServerTime(new Date(serverNow)))
    return effects.length === 0
      ? Effect.void
      : Effect.catchAll(
        Effect.all(effects, { discard: true }),
        (error) => Effect.logWarning(`GitHub ${reply.method} ${reply.route}: ${error.message}`)
      )
  }

  const follow = (
    p: Prepared,
    url: string,
    authorization: Redacted.Redacted<string> | undefined,
    hops: number,
    span: Tracer.Span | undefined,
    clock: Clock.Clock
  ): Effect.Effect<Reply, GithubRequestError> =>
    Effect.flatMap(exchange(p, url, authorization, clock), (reply) => {
      // only GitHub's own answers (not a redirect target's) tell about its rate limits and clock
      const observed = url.startsWith(options.origin + "/") ? observe(reply, span, clock) : Effect.void
      const location = reply.headers.location
      if (!redirects.has(reply.status) || location === undefined) return Effect.as(observed, reply)
      const unfollowed = (why: string) =>
        Effect.zipRight(
          observed,
          Effect.fail(new GithubUnexpectedStatus({ ...requestInfo(reply), hint: `Redirect not followed: ${why}.` }))
        )
      if (hops >= defaults.maxRedirects) return unfollowed(`more than ${defaults.maxRedirects} redirects`)
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        return unfollowed("the Location header is not a URL")
      }
      if (!isAllowedProtocol(next, options.allowInsecureHttp)) {
        return unfollowed(`it leads to insecure ${next.protocol} at ${next.host}`)
      }
      // Credentials go only to the base URL's origin; another host gets the request without them
      const sameOrigin = next.origin === options.origin
      const nextRequest = sameOrigin || p.headers === undefined ? p : { ...p, headers: withoutCredentials(p.headers) }
      return Effect.zipRight(
        observed,
        turn(p, follow(nextRequest, next.href, sameOrigin ? authorization : undefined, hops + 1, span, clock))
      )
    })

  const settle = (
    p: Prepared,
    fresh: boolean,
    accept304: boolean,
    span: Tracer.Span | undefined,
    clock: Clock.Clock
  ): Effect.Effect<Received, RequestError> =>
    (credentials === undefined
      ? follow(p, p.url, undefined, 0, span, clock)
      : Effect.flatMap(
        credentials.authorization(fresh),
        (authorization) => follow(p, p.url, authorization, 0, span, clock)
      ))
      .pipe(
        Effect.flatMap((reply): Effect.Effect<Received, GithubRequestError> => {
          if ((reply.status >= 200 && reply.status < 300) || (accept304 && reply.status === 304)) {
            const body = successBody(reply, options.baseUrl)
            return Either.isRight(body) ? Effect.succeed({ ...reply, body: body.right }) : Effect.fail(body.left)
          }
          return Effect.fail(statusError(reply, options.baseUrl, clock.unsafeCurrentTimeMillis()))
        })
      )

  // One clock for the attempt: its start, its timeout's choice of timer and what its response tells.
  const attempt = (p: Prepared, n: number, fresh: boolean, accept304: boolean): Effect.Effect<Received, RequestError> =>
    Effect.clockWith((clock) => {
      const settled = Effect.tracerWith((tracer) =>
        // Effect's built-in tracer exports nothing: skip the span's cost unless a real tracer is installed
        tracer === nativeTracer()
          ? settle(p, fresh, accept304, undefined, clock)
          : Effect.useSpan(`GitHub ${p.method} ${p.route}`, {
            kind: "client",
            captureStackTrace: false,
            attributes: { "http.request.method": p.method, "http.route": p.route, "github.attempt": n }
          }, (span) => Effect.withParentSpan(settle(p, fresh, accept304, span, clock), span))
      )
      return turn(p, settled)
    })

  const retry = options.retry

  interface Attempt {
    readonly n: number
    readonly fresh: boolean
    readonly refreshed: boolean
    readonly schedule: { readonly state: unknown } | undefined
    readonly lagged: number
    readonly transportWarned: boolean
  }

  const run = (p: Prepared, accept304: boolean): Effect.Effect<Received, RequestError> => {
    const loop = (at: Attempt): Effect.Effect<Received, RequestError> =>
      Effect.catchAll(attempt(p, at.n, at.fresh, accept304), (error) => {
        const lag = credentials?.replicationLag
        return lag !== undefined && isLagRefusal(error)
          ? Effect.flatMap(lag, (remaining) => {
            // GitHub may refuse a token for a moment after minting it: back off (100 ms, doubling, at most 1 s)
            // while the token is younger than the window, then give up naming the likely cause.
            const wait = Math.min(100 * 2 ** at.lagged, 1000, Duration.toMillis(remaining))
            return wait > 0 && at.lagged < maxLagRepeats
              ? Effect.logDebug(`GitHub ${p.method} ${p.route}: ${error.status} for fresh credentials; repeating`).pipe(
                Effect.zipRight(Effect.sleep(Duration.millis(wait))),
                Effect.zipRight(loop({ ...at, n: at.n + 1, lagged: at.lagged + 1 }))
              )
              : recover(at, at.lagged > 0 ? withLagHint(error) : error)
          })
          : recover(at, error)
      })

    const recover = (at: Attempt, error: RequestError): Effect.Effect<Received, RequestError> => {
      if (
        error._tag === "GithubUnauthorized" && credentials !== undefined && !at.refreshed &&
        credentials.shouldRefresh(error)
      ) {
        return Effect.zipRight(
          Effect.logDebug(`GitHub ${p.method} ${p.route}: 401 (${error.reason}); repeating with fresh credentials`),
          loop({ ...at, n: at.n + 1, fresh: true, refreshed: true })
        )
      }
      if (retry === undefined || !retryInputTags.has(error._tag)) return Effect.fail(error)
      const input = error as RetryInput
      if (!isRetryable(input, p.idempotent)) return Effect.fail(error)
      return Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.flatMap(
          retry.step(now, input, at.schedule === undefined ? retry.initial : at.schedule.state),
          ([state, , decision]): Effect.Effect<Received, RequestError> => {
            if (ScheduleDecision.isDone(decision)) return Effect.fail(error)
            // GitHub's waits are a floor under any schedule: the pause (and an exhausted bucket) hold back the next
            // turn anyway; a 503's retry-after holds back this request
            const floor = input._tag === "GithubServerError" && input.retryAfter !== undefined
              ? Duration.toMillis(input.retryAfter)
              : 0
            const wait = Math.max(0, Intervals.start(decision.intervals) - now, floor)
            if (input._tag === "GithubRateLimited") {
              const github = input.retryAfter === undefined ? 0 : Duration.toMillis(input.retryAfter)
              if (Math.max(wait, github) > options.maxRateLimitWait) {
                return Effect.fail(withWait(input, Math.max(wait, github)))
              }
            }
            const transport = input._tag === "GithubTransportError"
            const of = !transport || options.retryAttempts === undefined ? "" : ` of ${options.retryAttempts}`
            const message = `GitHub ${p.method} ${p.route}: ${describe(input)}; attempt ${at.n + 1}${of} in ${
              seconds(wait)
            }`
            // the first transport failure of a request is worth a warning (what failed, when the next try is)
            const warn = input._tag === "GithubRateLimited" || (transport && !at.transportWarned)
            return (warn ? Effect.logWarning(message) : Effect.logDebug(message)).pipe(
              Effect.zipRight(Effect.sleep(Duration.millis(wait))),
              Effect.zipRight(
                loop({
                  ...at,
                  n: at.n + 1,
                  fresh: false,
                  schedule: { state },
                  transportWarned: at.transportWarned || transport
                })
              )
            )
          }
        )
      })
    }
    return loop({ n: 1, fresh: false, refreshed: false, schedule: undefined, lagged: 0, transportWarned: false })
  }

  const decodeWith = <A, I, R>(
    schema: Schema.Schema<A, I, R>,
    received: Received
  ): Effect.Effect<A, GithubDecodeError, R> => {
    const { fast, slow } = cached(shared.decoders, schema, () => schema)
    const value = fast?.(received.body)
    return value !== undefined && Option.isSome(value)
      ? Effect.succeed(value.value as A)
      : Effect.mapError(
        slow(received.body) as Effect.Effect<A, ParseResult.ParseError, R>,
        (error) => GithubDecodeError.fromParseError(error, requestInfo(received))
      )
  }

  const pages = <A, I, R>(
    request: Request,
    item: Schema.Schema<A, I, R>,
    pageOptions?: { readonly key?: string | undefined; readonly perPage?: number | undefined }
  ): Stream.Stream<Page<A>, RequestError, R> => {
    const perPage = pageOptions?.perPage ?? options.perPage
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      return Stream.fail(
        new InvalidArgument({ argument: "perPage", description: `must be an integer from 1 to 100, got ${perPage}` })
      )
    }
    const decode = cached(shared.arrayDecoders, item, () => Schema.Array(item)).decode as (
      u: unknown
    ) => Effect.Effect<ReadonlyArray<A>, ParseResult.ParseError, R>
    type State = { readonly url: string } | { readonly fail: GithubRequestError }
    return Stream.unwrap(
      Effect.map(
        prepare(request, { per_page: String(perPage) }),
        (first) =>
          Stream.paginateChunkEffect<State, Page<A>, RequestError, R>({ url: first.url }, (state) => {
            if ("fail" in state) {
              return Effect.fail(state.fail)
            }
            return Effect.flatMap(run({ ...first, url: state.url }, false), (received) => {
              const extracted = extractItems(received, pageOptions?.key)
              if (Either.isLeft(extracted)) return Effect.fail(extracted.left)
              const { items, key, totalCount } = extracted.right
              return Effect.map(
                Effect.mapError(decode(items), (error) =>
                  new GithubDecodeError({
                    ...requestInfo(received),
                    issues: GithubDecodeError.fromParseError(error).issues.map((issue) =>
                      key === undefined ? issue : { ...issue, path: `$.${key}${issue.path.slice(1)}` }
                    )
                  })),
                (decoded) => {
                  const page: Page<A> = { items: decoded, totalCount }
                  const next = nextLink(received.headers.link)
                  if (Option.isNone(next) || decoded.length === 0) return [Chunk.of(page), Option.none()] as const
                  let url: URL | undefined
                  try {
                    url = new URL(next.value, state.url)
                  } catch {
                    url = undefined
                  }
                  if (url === undefined || url.origin !== options.origin) {
                    const fail = new GithubUnexpectedStatus({
                      ...requestInfo(received),
                      hint: "The Link header's next page is not on the base URL's origin; not following it."
                    })
                    return [Chunk.of(page), Option.some<State>({ fail })] as const
                  }
                  return [Chunk.of(page), Option.some<State>({ url: url.href })] as const
                }
              )
            })
          })
      )
    )
  }

  const service: Service = {
    baseUrl: options.baseUrl,
    perPage: options.perPage,
    request: (request, schema) =>
      Effect.flatMap(
        prepare(request),
        (p) => Effect.flatMap(run(p, false), (received) => decodeWith(schema, received))
      ),
    requestJson: (request) =>
      Effect.flatMap(prepare(request), (p) =>
        Effect.map(run(p, true), (received): RawResponse => ({
          status: received.status,
          headers: received.headers as Readonly<Record<string, string>>,
          body: received.body
        }))),
    paginate: (request, item, pageOptions) =>
      Stream.mapConcatChunk(pages(request, item, pageOptions), (page) => Chunk.unsafeFromArray(page.items)),
    paginatePages: pages,
    rateLimit: (resource = "core") =>
      Effect.catchAll(
        store.reading(identity, resource),
        (error) =>
          Effect.as(
            Effect.logWarning(storeFailure({ method: "GET", route: "rateLimit" })(error).message),
            Option.none()
          )
      ),
    identity,
    withCredentials: (next) => makeService(shared, next)
  }
  return service
}

const extractItems = (
  received: Received,
  key: string | undefined
): Either.Either<
  { readonly items: unknown; readonly key: string | undefined; readonly totalCount: Option.Option<number> },
  GithubDecodeError
> => {
  const body = received.body
  if (Array.isArray(body)) return Either.right({ items: body, key: undefined, totalCount: Option.none() })
  const fail = (expected: string) =>
    Either.left(new GithubDecodeError({ ...requestInfo(received), issues: [{ path: "$", expected }] }))
  if (typeof body !== "object" || body === null) return fail(key === undefined ? "an array" : `an object with ${key}`)
  const record = body as Record<string, unknown>
  const totalCount = typeof record.total_count === "number" ? Option.some(record.total_count) : Option.none()
  if (key !== undefined) {
    return Array.isArray(record[key])
      ? Either.right({ items: record[key], key, totalCount })
      : Either.left(
        new GithubDecodeError({ ...requestInfo(received), issues: [{ path: `$.${key}`, expected: "an array" }] })
      )
  }
  // without a key, a wrapped body with exactly one array (`{ total_count, repositories: [...] }`) is unwrapped
  const arrays = Object.keys(record).filter((name) => Array.isArray(record[name]))
  return arrays.length === 1
    ? Either.right({ items: record[arrays[0]!], key: arrays[0], totalCount })
    : fail("an array, or an object with one array (give `key` to choose)")
}
