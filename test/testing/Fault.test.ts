import { Fault } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { bearer, call, mint, modes, setup } from "./helpers.js"

const GET_INSTALLATION = "GET /app/installations/{installation_id}"

for (const mode of modes) {
  describe(`Fault (${mode.name})`, () => {
    it.scoped("a list of statuses answers one request each, then the route recovers", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault(GET_INSTALLATION, [Fault.status(500), Fault.status(502), Fault.status(503)])
        const statuses: Array<number> = []
        for (let i = 0; i < 4; i++) statuses.push((yield* call(t, "GET", "/app/installations/1", { auth })).status)
        assert.deepStrictEqual(statuses, [500, 502, 503, 200])
        assert.strictEqual(yield* sim.count(GET_INSTALLATION), 4)
        const recorded = yield* sim.requests
        assert.deepStrictEqual(recorded.map((r) => r.status), [500, 502, 503, 200])
      }))

    it.scoped("times: a fault applies to that many matching requests; other routes are untouched", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault("GET /app", Fault.status(503, { message: "Unicorn!" }), { times: 2 })
        const first = yield* call(t, "GET", "/app", { auth })
        assert.deepStrictEqual([first.status, first.json.message], [503, "Unicorn!"])
        assert.strictEqual(first.headers["x-ratelimit-resource"], "core")
        assert.strictEqual((yield* call(t, "GET", "/app/installations", { auth })).status, 200)
        assert.strictEqual((yield* call(t, "GET", "/app", { auth })).status, 503)
        assert.strictEqual((yield* call(t, "GET", "/app", { auth })).status, 200)
      }))

    it.scoped("matchers: concrete paths, any method, predicates, '*', and clearFaults", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault("GET /app/installations/2", Fault.status(500), { times: Infinity })
        assert.strictEqual((yield* call(t, "GET", "/app/installations/1", { auth })).status, 200)
        assert.strictEqual((yield* call(t, "GET", "/app/installations/2", { auth })).status, 500)
        assert.strictEqual((yield* call(t, "GET", "/app/installations/2", { auth })).status, 500)
        yield* sim.clearFaults
        assert.strictEqual((yield* call(t, "GET", "/app/installations/2", { auth })).status, 200)
        yield* sim.fault((request) => request.query["page"] === "2", Fault.status(502))
        assert.strictEqual((yield* call(t, "GET", "/app/installations?page=1", { auth })).status, 200)
        assert.strictEqual((yield* call(t, "GET", "/app/installations?page=2", { auth })).status, 502)
        yield* sim.fault("/app/installations/{installation_id}/access_tokens", Fault.status(500))
        assert.strictEqual((yield* call(t, "POST", "/app/installations/1/access_tokens", { auth })).status, 500)
        yield* sim.fault("*", Fault.status(504))
        assert.strictEqual((yield* call(t, "GET", "/rate_limit")).status, 504)
      }))

    it.scoped("secondary rate limit: 403 with and without retry-after, and 429", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault("GET /app", [
          Fault.secondaryRateLimit({ retryAfter: "30 seconds" }),
          Fault.secondaryRateLimit(),
          Fault.tooManyRequests({ retryAfter: 5000 })
        ])
        const withRetry = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(withRetry.status, 403)
        assert.strictEqual(withRetry.headers["retry-after"], "30")
        assert.match(withRetry.json.message, /^You have exceeded a secondary rate limit/)
        assert.include(withRetry.json.message, withRetry.headers["x-github-request-id"]!)
        assert.notStrictEqual(withRetry.headers["x-ratelimit-remaining"], "0")
        const without = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(without.status, 403)
        assert.isUndefined(without.headers["retry-after"])
        assert.match(without.json.message, /secondary rate limit/)
        const tooMany = yield* call(t, "GET", "/app", { auth })
        assert.deepStrictEqual([tooMany.status, tooMany.headers["retry-after"]], [429, "5"])
      }))

    it.scoped("primary rate limit: remaining 0 and a reset in the future; the bucket stays empty until then", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const { auth } = yield* mint(t, sim, 1)
        yield* TestClock.adjust("10 seconds")
        yield* sim.fault("GET /installation/repositories", Fault.primaryRateLimit({ resetAfter: "2 minutes" }))
        const refused = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.strictEqual(refused.status, 403)
        assert.strictEqual(refused.json.message, "API rate limit exceeded for installation ID 1.")
        assert.strictEqual(refused.headers["x-ratelimit-remaining"], "0")
        assert.strictEqual(refused.headers["x-ratelimit-reset"], "130")
        const still = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.deepStrictEqual([still.status, still.headers["x-ratelimit-remaining"]], [403, "0"])
        // The app's own bucket is separate.
        assert.strictEqual((yield* call(t, "GET", "/app", { auth: yield* bearer(sim) })).status, 200)
        yield* TestClock.adjust("2 minutes")
        assert.strictEqual((yield* call(t, "GET", "/installation/repositories", { auth })).status, 200)
      }))

    it.scoped("delay holds the reply until the (test) clock moves, so client timeouts fire", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault("GET /app", Fault.delay("10 seconds"), { times: 2 })
        const slow = yield* Effect.fork(call(t, "GET", "/app", { auth }))
        yield* TestClock.adjust("9 seconds")
        assert.isTrue(Option.isNone(yield* Fiber.poll(slow)))
        yield* TestClock.adjust("1 second")
        const reply = yield* Fiber.join(slow)
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.headers["date"], new Date(10_000).toUTCString())
        const timedOut = yield* Effect.fork(Effect.timeout(call(t, "GET", "/app", { auth }), "5 seconds"))
        yield* TestClock.adjust("5 seconds")
        const result = yield* Effect.either(Fiber.join(timedOut))
        assert.isTrue(Either.isLeft(result) && result.left._tag === "TimeoutException")
        assert.strictEqual(yield* sim.count("GET /app"), 2)
      }))

    it.scoped("delay composes with a status fault on the same route", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* sim.fault("GET /app", Fault.delay("1 second"))
        yield* sim.fault("GET /app", Fault.status(502))
        const fiber = yield* Effect.fork(call(t, "GET", "/app", { auth }))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(fiber)).status, 502)
      }))

    it.scoped("connection reset fails the request with a transport error", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        yield* sim.fault("GET /rate_limit", Fault.connectionReset)
        const result = yield* Effect.either(call(t, "GET", "/rate_limit"))
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left._tag, "RequestError")
          assert.strictEqual((result.left as any).reason, "Transport")
        }
        assert.strictEqual((yield* call(t, "GET", "/rate_limit")).status, 200)
        const recorded = yield* sim.requests
        assert.deepStrictEqual(recorded.map((r) => r.status), [undefined, 200])
      }))

    it.scoped("truncated and malformed JSON bodies", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        const whole = yield* call(t, "GET", "/app", { auth })
        yield* sim.fault("GET /app", [Fault.truncatedJson, Fault.malformedJson])
        const truncated = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(truncated.status, 200)
        assert.strictEqual(truncated.text, whole.text.slice(0, Math.floor(whole.text.length / 2)))
        assert.isUndefined(truncated.json)
        const malformed = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(malformed.status, 200)
        assert.isUndefined(malformed.json)
        assert.isTrue(malformed.text.length > 0)
      }))

    it.scoped("an HTML page, as a GHES host answers outside /api/v3", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { pathPrefix: "/api/v3" })
        yield* sim.fault((request) => request.route === undefined, Fault.html(), { times: Infinity })
        const origin = new URL(t.baseUrl).origin
        const reply = yield* call({ client: t.client, baseUrl: origin }, "GET", "/app", { auth: yield* bearer(sim) })
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.headers["content-type"], "text/html; charset=utf-8")
        assert.match(reply.text, /^<!DOCTYPE html>/)
        assert.strictEqual((yield* call(t, "GET", "/rate_limit")).status, 200)
      }))

    it.scoped("replication lag: a fresh token gets 401 for its first moments", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        yield* sim.fault("GET /installation/repositories", Fault.replicationLag("500 millis"), { times: Infinity })
        const { auth } = yield* mint(t, sim, 1)
        const fresh = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.deepStrictEqual([fresh.status, fresh.json.message], [401, "Bad credentials"])
        yield* TestClock.adjust("500 millis")
        assert.strictEqual((yield* call(t, "GET", "/installation/repositories", { auth })).status, 200)
        // Other credentials on the route are not affected by the lag rule.
        assert.strictEqual(
          (yield* call(t, "GET", "/installation/repositories", { auth: yield* bearer(sim) })).status,
          403
        )
      }))
  })
}
