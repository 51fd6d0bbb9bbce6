import type * as HttpRequester from "@effect-github/app/HttpRequester"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { fake, httpDate, json, requester, tokenCredentials } from "./HttpRequesterFake.js"

const get: HttpRequester.Request = { method: "GET", path: "/installation/repositories" }
const issue: HttpRequester.Request = {
  method: "POST",
  path: "/repos/{owner}/{repo}/issues",
  params: { owner: "o", repo: "r" },
  body: { title: "t" }
}
const mint: HttpRequester.Request = {
  method: "POST",
  path: "/app/installations/{installation_id}/access_tokens",
  params: { installation_id: 1 },
  idempotent: true,
  contentCreating: false
}
const advance = (millis: number) => TestClock.adjust(Duration.millis(millis))
const spaced: HttpRequester.Options = { secondsBetweenRequests: 0.25, secondsBetweenWrites: 1 }
const as = (identity: string) => tokenCredentials(identity, { identity })

const secondary = (headers: Record<string, string> = {}) =>
  json({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, {
    status: 403,
    headers
  })

describe("HttpRequester identities (issue 12)", () => {
  it.effect("fault 1: spacing is per identity; one installation's writes do not hold back another", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}, { status: 201 }))
      const github = yield* requester(client, spaced)
      const one = github.withCredentials(as("installation:1"))
      const two = github.withCredentials(as("installation:2"))
      const writes = yield* Effect.fork(Effect.all(Array.from({ length: 60 }, () => one.requestJson(issue)), {
        concurrency: "unbounded"
      }))
      yield* advance(0)
      const read = yield* Effect.fork(two.requestJson(get))
      yield* advance(0)
      yield* Fiber.join(read)
      const twos = client.seen.filter((seen) => seen.headers.authorization === "token installation:2")
      assert.deepStrictEqual(twos.map((seen) => seen.at), [0])
      yield* advance(59_000)
      yield* Fiber.join(writes)
      const ones = client.seen.filter((seen) => seen.headers.authorization === "token installation:1")
      assert.deepStrictEqual(ones.map((seen) => seen.at), Array.from({ length: 60 }, (_, i) => i * 1000))
    }))

  it.effect("fault 1: mints are authentication traffic, spaced by secondsBetweenRequests, not by writes", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ token: "t" }, { status: 201 }))
      const app = (yield* requester(client, spaced)).withCredentials(as("app:1"))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 40 }, () => app.requestJson(mint)), {
        concurrency: "unbounded"
      }))
      yield* advance(39 * 250)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), Array.from({ length: 40 }, (_, i) => i * 250))
    }))

  it.effect("fault 2: requests interrupted while waiting for their turn leave nothing behind", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ id: 1 }))
      const github = yield* requester(client, spaced)
      const app = github.withCredentials(as("app:1"))
      const waiting = yield* Effect.forEach(Array.from({ length: 200 }), () => Effect.fork(app.requestJson(get)))
      yield* advance(0)
      yield* Fiber.interruptAll(waiting)
      // the first of them was sent at 0; nothing else holds a turn
      assert.strictEqual(client.seen.length, 1)
      const lone = yield* Effect.fork(app.requestJson(get))
      yield* advance(250)
      yield* Fiber.join(lone)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 250])
    }))

  it.effect("fault 3: a rate-limit answer pauses its identity even with retry: false", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? secondary({ "retry-after": "60" }) : json({}))
      const github = yield* requester(client, { retry: false })
      const error = yield* Effect.flip(github.withCredentials(as("installation:1")).requestJson(get))
      assert.strictEqual(error._tag, "GithubRateLimited")
      // a new requester (new credentials object) for the same installation waits; another installation does not
      const again = yield* Effect.fork(github.withCredentials(as("installation:1")).requestJson(get))
      yield* github.withCredentials(as("installation:2")).requestJson(get)
      yield* advance(59_999)
      assert.strictEqual(client.seen.length, 2)
      yield* advance(1)
      yield* Fiber.join(again)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 0, 60_000])
    }))

  it.effect("fault 3: a wait over maxRateLimitWait fails, and the identity stays paused: nothing is sent", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? secondary({ "retry-after": "600" }) : json({}))
      const github = (yield* requester(client, { maxRateLimitWait: "1 minute" })).withCredentials(as("app:1"))
      const first = yield* Effect.flip(github.requestJson(get))
      assert.strictEqual(first._tag, "GithubRateLimited")
      const second = yield* Effect.flip(github.requestJson(get))
      assert.strictEqual(second._tag, "GithubRateLimited")
      assert.strictEqual(client.seen.length, 1)
    }))

  it.effect("fault 3: a secondary limit without retry-after pauses for at least a minute, growing", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n <= 2 ? secondary() : json({}))
      const github = (yield* requester(client, { retry: false })).withCredentials(as("app:1"))
      yield* Effect.flip(github.requestJson(get))
      const second = yield* Effect.fork(Effect.flip(github.requestJson(get)))
      yield* advance(60_000)
      yield* Fiber.join(second)
      const third = yield* Effect.fork(github.requestJson(get))
      yield* advance(119_999)
      assert.strictEqual(client.seen.length, 2)
      yield* advance(1)
      yield* Fiber.join(third)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 60_000, 180_000])
    }))

  it.effect("fault 4: GitHub's retry-after is a floor under a caller's 20 ms schedule", () =>
    Effect.gen(function*() {
      const client = fake((_, n) => n === 1 ? secondary({ "retry-after": "60" }) : json({}))
      const github = yield* requester(client, { retry: Schedule.spaced("20 millis") })
      const fiber = yield* Effect.fork(github.requestJson(get))
      yield* advance(59_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 60_000])
    }))

  it.effect("fault 4: a 503's Retry-After is honoured", () =>
    Effect.gen(function*() {
      const client = fake((_, n) =>
        n === 1 ? json({ message: "busy" }, { status: 503, headers: { "retry-after": "30" } }) : json({})
      )
      const github = yield* requester(client, { retry: Schedule.spaced("10 millis") })
      const fiber = yield* Effect.fork(github.requestJson(get))
      yield* advance(29_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 30_000])
    }))

  it.effect("fault 5: an exhausted installation holds back every requester of it", () =>
    Effect.gen(function*() {
      const client = fake((_, n) =>
        json([], {
          headers: n === 1
            ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "100", date: httpDate(0) }
            : { "x-ratelimit-remaining": "4999", "x-ratelimit-reset": "3700", date: httpDate(0) }
        })
      )
      const github = yield* requester(client)
      yield* github.withCredentials(as("installation:7")).requestJson(get)
      const second = github.withCredentials(as("installation:7"))
      assert.deepInclude(Option.getOrThrow(yield* second.rateLimit()), { remaining: 0 })
      const waiting = yield* Effect.fork(second.requestJson(get))
      yield* advance(100_999)
      assert.strictEqual(client.seen.length, 1)
      yield* advance(1)
      yield* Fiber.join(waiting)
      assert.deepStrictEqual(client.seen.map((seen) => seen.at), [0, 101_000])
    }))

  it.effect("fault 5: a reading without x-ratelimit-reset is kept", () =>
    Effect.gen(function*() {
      const client = fake(() => json([], { headers: { "x-ratelimit-remaining": "42", "x-ratelimit-limit": "5000" } }))
      const github = (yield* requester(client)).withCredentials(as("installation:1"))
      yield* github.requestJson(get)
      const reading = Option.getOrThrow(yield* github.rateLimit())
      assert.deepInclude(reading, { remaining: 42, limit: 5000, used: 4958 })
      assert.strictEqual(reading.resetAt, undefined)
    }))

  it.effect("GitHub's 900 points a minute per identity: the 181st POST waits for the window", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}, { status: 201 }))
      const github = (yield* requester(client, { secondsBetweenRequests: 0, secondsBetweenWrites: 0 }))
        .withCredentials(as("app:1"))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 181 }, () => github.requestJson(mint)), {
        concurrency: 10
      }))
      yield* advance(59_999)
      assert.strictEqual(client.seen.length, 180)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.strictEqual(client.seen[180]!.at, 60_000)
    }))

  it.effect("content-creating writes: at most 80 a minute per identity", () =>
    Effect.gen(function*() {
      const client = fake(() => json({}, { status: 201 }))
      const github = (yield* requester(client, { secondsBetweenRequests: 0, secondsBetweenWrites: 0 }))
        .withCredentials(as("installation:1"))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 81 }, () => github.requestJson(issue)), {
        concurrency: "unbounded"
      }))
      yield* advance(59_999)
      assert.strictEqual(client.seen.length, 80)
      yield* advance(1)
      yield* Fiber.join(fiber)
      assert.strictEqual(client.seen[80]!.at, 60_000)
    }))

  it.effect("at most maxConcurrentRequests in flight per identity", () =>
    Effect.gen(function*() {
      let inFlight = 0
      let most = 0
      const client = fake(() =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            inFlight++
            most = Math.max(most, inFlight)
          }),
          () => Effect.as(Effect.sleep("1 second"), json({})),
          () => Effect.sync(() => inFlight--)
        )
      )
      const github = (yield* requester(client, { maxConcurrentRequests: 3 })).withCredentials(as("app:1"))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 10 }, () => github.requestJson(get)), {
        concurrency: "unbounded"
      }))
      yield* advance(4_000)
      yield* Fiber.join(fiber)
      assert.strictEqual(most, 3)
    }))
})
