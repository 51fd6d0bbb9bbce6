import type * as HttpRequester from "@effect-github/app/HttpRequester"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { connectionRefused, fake, httpDate, json, requester, tokenCredentials } from "./HttpRequesterFake.js"

const get: HttpRequester.Request = { method: "GET", path: "/app/installations" }
const post: HttpRequester.Request = {
  method: "POST",
  path: "/repos/{owner}/{repo}/issues",
  params: { owner: "o", repo: "r" },
  body: { title: "t" }
}
const advance = (millis: number) => TestClock.adjust(Duration.millis(millis))

const secondary = (headers: Record<string, string> = {}) =>
  json({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, {
    status: 403,
    headers
  })

describe("HttpRequester retry", () => {
  it.effect("retries a GET after a 502 with jittered exponential backoff", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? json({ message: "Bad gateway" }, { status: 502 }) : json({ ok: 1 }))
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(github.requestJson(get))
      yield* advance(799)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(401)
      const response = yield* Fiber.join(fiber)
      assert.deepStrictEqual(response.body, { ok: 1 })
      assert.strictEqual(client.seen.length, 2)
      assert.isAtLeast(client.seen[1]!.at, 800)
      assert.isAtMost(client.seen[1]!.at, 1200)
    }))

  it.effect("retries 500, 503 and 504 too, up to 5 attempts by default", () =>
    Effect.gen(function*() {
      const statuses = [500, 503, 504, 500, 503]
      const client = fake((_, n) => json({}, { status: statuses[n - 1] ?? 200 }))
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(Effect.flip(github.requestJson(get)))
      yield* advance(60_000)
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "GithubServerError", status: 503 })
      assert.strictEqual(client.seen.length, 5)
    }))

  it.effect("never repeats a POST after a 5xx", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ message: "Server Error" }, { status: 502 }))
      const github = yield* requester(client)
      const error = yield* Effect.flip(github.requestJson(post))
      assert.deepInclude(error, { _tag: "GithubServerError", method: "POST", route: "/repos/{owner}/{repo}/issues" })
      assert.strictEqual(client.seen.length, 1)
    }))

  it.effect("repeats an idempotent POST (minting a token) after a 5xx", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? json({}, { status: 502 }) : json({ token: "x" }, { status: 201 }))
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(github.requestJson({
        method: "POST",
        path: "/app/installations/{installation_id}/access_tokens",
        params: { installation_id: 1 },
        idempotent: true
      }))
      yield* advance(1200)
      assert.strictEqual((yield* Fiber.join(fiber)).status, 201)
      assert.strictEqual(client.seen.length, 2)
    }))

  it.effect("a GET that times out is repeated; a POST that times out is not", () =>
    Effect.gen(function*() {
      const client = fake((request, n) =>
        request.method === "POST" || n === 1 ? Effect.never : Effect.succeed(json({ ok: 1 }))
      )
      const github = yield* requester(client, { timeout: "15 seconds" })
      const reading = yield* Effect.fork(github.requestJson(get))
      yield* advance(14_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1 + 1200)
      assert.deepStrictEqual((yield* Fiber.join(reading)).body, { ok: 1 })
      assert.strictEqual(client.seen.length, 2)

      const writing = yield* Effect.fork(Effect.flip(github.requestJson(post)))
      yield* advance(15_000)
      const error = yield* Fiber.join(writing)
      assert.deepInclude(error, { _tag: "GithubTransportError", reason: "Timeout", notProcessed: false })
      yield* advance(60_000)
      assert.strictEqual(client.seen.length, 3)
    }))

  it.effect("a POST whose connection was refused is repeated (it was never sent)", () =>
    Effect.gen(function*() {
      const client = fake((_, n, request) =>
        n === 1 ? connectionRefused(request) : Effect.succeed(json({}, { status: 201 }))
      )
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(github.requestJson(post))
      yield* advance(1200)
      assert.strictEqual((yield* Fiber.join(fiber)).status, 201)
      assert.strictEqual(client.seen.length, 2)
    }))

  it.effect("429 waits retry-after exactly, and says so in a warning", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${String(message)}`))
      const client = fake((_, n) =>
        n === 1 ? json({ message: "Too many requests" }, { status: 429, headers: { "retry-after": "7" } }) : json({})
      )
      const github = (yield* requester(client)).withCredentials(tokenCredentials("ghs_secretvalue"))
      const fiber = yield* Effect.fork(
        github.requestJson(post).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
      )
      yield* advance(6_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 7_000])
      assert.deepStrictEqual(logs, [
        "WARN GitHub POST /repos/{owner}/{repo}/issues: secondary rate limit; attempt 2 in 7 s"
      ])
      assert.notInclude(logs.join(), "ghs_secretvalue")
    }))

  it.effect("a primary limit (remaining 0) waits until x-ratelimit-reset + 1 s, on GitHub's clock", () =>
    Effect.gen(function*() {
      // GitHub's clock is 500 s ahead of ours: the wait is reset - date, not reset - our now
      const client = fake((_, n) =>
        n === 1
          ? json({ message: "API rate limit exceeded for installation ID 1." }, {
            status: 403,
            headers: {
              "x-ratelimit-remaining": "0",
              "x-ratelimit-limit": "5000",
              "x-ratelimit-reset": "530",
              "x-ratelimit-resource": "core",
              date: httpDate(500_000)
            }
          })
          : json({})
      )
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(github.requestJson(post))
      yield* advance(30_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 31_000])
    }))

  it.effect("a secondary limit waits at least 60 s, longer on repeats", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n <= 2 ? secondary() : json({}))
      const github = yield* requester(client)
      const fiber = yield* Effect.fork(github.requestJson(post))
      yield* advance(59_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      assert.strictEqual(client.seen.length, 2)
      yield* advance(120_000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 60_000, 180_000])
    }))

  it.effect("never waits past maxRateLimitWait: fails at once with resetAt/retryAfter", () =>
    Effect.gen(function*() {
      const client = fake(() =>
        json({ message: "API rate limit exceeded" }, {
          status: 403,
          headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3600", date: httpDate(0) }
        })
      )
      const github = yield* requester(client, { maxRateLimitWait: "15 minutes" })
      const error = yield* Effect.flip(github.requestJson(get))
      assert.strictEqual(error._tag, "GithubRateLimited")
      if (error._tag === "GithubRateLimited") {
        assert.strictEqual(error.kind, "primary")
        assert.deepStrictEqual(error.resetAt, new Date(3_600_000))
        assert.strictEqual(Duration.toMillis(error.retryAfter!), 3_601_000)
      }
      assert.strictEqual(client.seen.length, 1)

      const limited = fake(() => secondary())
      const impatient = yield* requester(limited, { maxRateLimitWait: "30 seconds" })
      const secondaryError = yield* Effect.flip(impatient.requestJson(get))
      assert.deepInclude(secondaryError, { _tag: "GithubRateLimited", kind: "secondary" })
      if (secondaryError._tag === "GithubRateLimited") {
        assert.strictEqual(Duration.toMillis(secondaryError.retryAfter!), 60_000)
      }
      assert.strictEqual(limited.seen.length, 1)
    }))

  it.effect("retry: false, retry: n and a custom Schedule", () =>
    Effect.gen(function*() {
      const failing = () => fake(() => json({}, { status: 503 }))
      const off = failing()
      yield* Effect.flip((yield* requester(off, { retry: false })).requestJson(get))
      assert.strictEqual(off.seen.length, 1)

      const two = failing()
      const fiber = yield* Effect.fork(Effect.flip((yield* requester(two, { retry: 2 })).requestJson(get)))
      yield* advance(60_000)
      yield* Fiber.join(fiber)
      assert.strictEqual(two.seen.length, 2)

      const custom = failing()
      const schedule = Schedule.addDelay(Schedule.recurs(2), () => "5 seconds")
      const customFiber = yield* Effect.fork(
        Effect.flip((yield* requester(custom, { retry: schedule })).requestJson(get))
      )
      yield* advance(60_000)
      yield* Fiber.join(customFiber)
      assert.deepStrictEqual(custom.seen.map((seen) => seen.at - custom.seen[0]!.at), [0, 5_000, 10_000])

      // a custom schedule still never repeats an unsafe write
      const unsafe = failing()
      yield* Effect.flip((yield* requester(unsafe, { retry: schedule })).requestJson(post))
      assert.strictEqual(unsafe.seen.length, 1)
    }))

  it.effect("a 403 from fresh credentials is repeated while replicationLag says so", () =>
    Effect.gen(function*() {
      const refused = { message: "Resource not accessible by integration" }
      const client = fake((_, n) => n <= 2 ? json(refused, { status: 403 }) : json({}))
      const github = (yield* requester(client)).withCredentials(
        tokenCredentials("t", { replicationLag: Effect.succeed(Duration.seconds(3)) })
      )
      const fiber = yield* Effect.fork(github.requestJson(get))
      yield* advance(100)
      yield* advance(200)
      yield* Fiber.join(fiber)
      // backoff: 100 ms, then 200 ms
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 100, 300])
      const stale = (yield* requester(fake(() => json(refused, { status: 403 })))).withCredentials(
        tokenCredentials("t", { replicationLag: Effect.succeed(Duration.zero) })
      )
      assert.strictEqual((yield* Effect.flip(stale.requestJson(get)))._tag, "GithubForbidden")
      // a 403 for another reason (a suspended installation) is not lag: it fails at once
      const suspended = fake(() => json({ message: "This installation has been suspended" }, { status: 403 }))
      const other = (yield* requester(suspended)).withCredentials(
        tokenCredentials("t", { replicationLag: Effect.succeed(Duration.seconds(3)) })
      )
      assert.strictEqual((yield* Effect.flip(other.requestJson(get)))._tag, "GithubForbidden")
      assert.strictEqual(suspended.seen.length, 1)
    }))
})

describe("HttpRequester rate-limit waits", () => {
  it.effect("while one request waits out a secondary limit, its identity waits and other identities do not", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? secondary({ "retry-after": "60" }) : json({}))
      const github = yield* requester(client)
      const first = yield* Effect.fork(github.withCredentials(tokenCredentials("a")).requestJson(get))
      yield* advance(1000)
      const other = yield* Effect.fork(github.withCredentials(tokenCredentials("b")).requestJson(get))
      const anonymous = yield* Effect.fork(github.requestJson(get))
      const again = yield* Effect.fork(github.withCredentials(tokenCredentials("a")).requestJson(get))
      yield* advance(58_999)
      assert.strictEqual(client.seen.length, 3)
      yield* advance(1)
      yield* Fiber.join(first)
      yield* Fiber.join(other)
      yield* Fiber.join(anonymous)
      yield* Fiber.join(again)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 1000, 1000, 60_000, 60_000])
    }))

  it.effect("an exhausted bucket holds back that credentials' requests, not others'", () =>
    Effect.gen(function*() {
      const client = fake((request) =>
        json([], {
          headers: request.headers.authorization === "token a"
            ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "100", date: httpDate(0) }
            : {}
        })
      )
      const github = yield* requester(client)
      const a = github.withCredentials(tokenCredentials("a"))
      yield* a.requestJson(get)
      const waiting = yield* Effect.fork(a.requestJson(get))
      yield* github.withCredentials(tokenCredentials("b")).requestJson(get)
      yield* advance(100_999)
      assert.strictEqual(client.seen.length, 2)
      yield* advance(1)
      yield* Fiber.join(waiting)
      assert.deepStrictEqual(client.seen.map((seen) => [seen.headers.authorization, seen.at]), [
        ["token a", 0],
        ["token b", 0],
        ["token a", 101_000]
      ])
      // a search request counts against another bucket and is not held back
      const search = yield* a.requestJson({ method: "GET", path: "/search/repositories", query: { q: "x" } })
      assert.strictEqual(search.status, 200)
    }))

  it.effect("an exhausted bucket beyond maxRateLimitWait fails without sending", () =>
    Effect.gen(function*() {
      const client = fake(() =>
        json([], { headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3600", date: httpDate(0) } })
      )
      const github = yield* requester(client, { maxRateLimitWait: "1 minute" })
      yield* github.requestJson(get)
      const error = yield* Effect.flip(github.requestJson(get))
      assert.deepInclude(error, { _tag: "GithubRateLimited", kind: "primary", resource: "core" })
      if (error._tag === "GithubRateLimited") assert.deepStrictEqual(error.resetAt, new Date(3_600_000))
      assert.strictEqual(client.seen.length, 1)
    }))
})

describe("HttpRequester spacing", () => {
  it.effect("10 concurrent requests start 250 ms apart", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}))
      const github = yield* requester(client, { secondsBetweenRequests: 0.25 })
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 10 }, () => github.requestJson(get)), {
        concurrency: "unbounded"
      }))
      yield* advance(2_249)
      assert.strictEqual(client.seen.length, 9)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250])
    }))

  it.effect("writes start a second apart, reads 250 ms apart, with the defaults", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}))
      const github = yield* requester(client, { secondsBetweenRequests: undefined, secondsBetweenWrites: undefined })
      const fiber = yield* Effect.fork(
        Effect.all([post, get, post, get, post, get].map((request) => github.requestJson(request)), {
          concurrency: "unbounded"
        })
      )
      yield* advance(3_000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => [seen.method, seen.at]), [
        ["POST", 0],
        ["GET", 250],
        ["POST", 1000],
        ["GET", 1250],
        ["POST", 2000],
        ["GET", 2250]
      ])
    }))

  it.effect("spacing is per identity: clients of different identities do not wait for each other", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}))
      const github = yield* requester(client, { secondsBetweenRequests: 0.25 })
      const clients = [
        github,
        github.withCredentials(tokenCredentials("a")),
        github.withCredentials(tokenCredentials("b"))
      ]
      const fiber = yield* Effect.fork(
        Effect.all(clients.flatMap((c) => [c.requestJson(get), c.requestJson(get)]), { concurrency: "unbounded" })
      )
      yield* advance(1_250)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 0, 0, 250, 250, 250])
    }))

  it.effect("spacing 0 lets concurrent requests go at once", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}))
      const github = yield* requester(client, { secondsBetweenRequests: 0, secondsBetweenWrites: 0 })
      yield* Effect.all(Array.from({ length: 10 }, () => github.requestJson(post)), { concurrency: "unbounded" })
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), Array.from({ length: 10 }, () => 0))
    }))
})

describe("HttpRequester tracing", () => {
  it.effect("one span per attempt, with route, method, status, attempt and remaining; no URL or secret", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.Span> = []
      const native = yield* Effect.tracer
      const recording = Tracer.make({
        context: native.context,
        span: (...args) => {
          const span = native.span(...args)
          spans.push(span)
          return span
        }
      })
      const client = fake((_, n) =>
        n === 1
          ? json({}, { status: 502 })
          : json({}, { headers: { "x-ratelimit-remaining": "41", "x-ratelimit-reset": "9" } })
      )
      const github = (yield* requester(client)).withCredentials(tokenCredentials("ghs_spansecret"))
      const fiber = yield* Effect.fork(
        github.requestJson({
          method: "GET",
          path: "/orgs/{org}/installation",
          params: { org: "acme" },
          query: { q: "s3cr3t" }
        })
          .pipe(Effect.withTracer(recording))
      )
      yield* advance(1200)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "GitHub GET /orgs/{org}/installation",
        "GitHub GET /orgs/{org}/installation"
      ])
      const attributes = spans.map((span) => Object.fromEntries(span.attributes))
      assert.deepStrictEqual(attributes[0], {
        "http.request.method": "GET",
        "http.route": "/orgs/{org}/installation",
        "github.attempt": 1,
        "http.response.status_code": 502
      })
      assert.deepInclude(attributes[1], {
        "github.attempt": 2,
        "http.response.status_code": 200,
        "github.ratelimit.remaining": 41
      })
      const text = JSON.stringify(attributes)
      assert.notInclude(text, "ghs_spansecret")
      assert.notInclude(text, "s3cr3t")
      assert.notInclude(text, "acme")
    }))
})
