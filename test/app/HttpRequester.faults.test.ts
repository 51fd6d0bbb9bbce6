import type * as HttpRequester from "@effect-github/app/HttpRequester"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { fake, httpDate, json, requester } from "./HttpRequesterFake.js"

const get: HttpRequester.Request = { method: "GET", path: "/installation/repositories" }
const post: HttpRequester.Request = { method: "POST", path: "/repos/o/r/issues", body: { title: "t" } }

const failing = (code: string) => (request: HttpClientRequest.HttpClientRequest) =>
  Effect.fail(
    new HttpClientError.RequestError({
      request,
      reason: "Transport",
      cause: Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code })
    })
  )

describe("HttpRequester faults of issue 12", () => {
  for (const code of ["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "ECONNREFUSED", "EAI_AGAIN"]) {
    it.effect(`fault 8: ${code} is retried for a GET, with backoff`, () =>
      Effect.gen(function*() {
        const client = fake((_, n, original) => n === 1 ? failing(code)(original) : json({ ok: 1 }))
        const github = yield* requester(client)
        const fiber = yield* Effect.fork(github.requestJson(get))
        yield* TestClock.adjust(Duration.seconds(2))
        const response = yield* Fiber.join(fiber)
        assert.deepStrictEqual(response.body, { ok: 1 })
        assert.strictEqual(client.seen.length, 2)
        assert.isAbove(client.seen[1]!.at, 0)
      }))
  }

  it.effect("fault 8: a write is retried only when it was provably not sent", () =>
    Effect.gen(function*() {
      const unreachable = fake((_, n, original) => n === 1 ? failing("EHOSTUNREACH")(original) : json({}))
      const fiber = yield* Effect.fork((yield* requester(unreachable)).requestJson(post))
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.join(fiber)
      assert.strictEqual(unreachable.seen.length, 2)
      const timedOut = fake((_, n, original) => n === 1 ? failing("ETIMEDOUT")(original) : json({}))
      const error = yield* Effect.flip((yield* requester(timedOut)).requestJson(post))
      assert.strictEqual(error._tag, "GithubTransportError")
      assert.strictEqual(timedOut.seen.length, 1)
    }))

  it.effect("ERR_SSL_WRONG_VERSION_NUMBER says the server speaks plain HTTP or the URL is wrong", () =>
    Effect.gen(function*() {
      const client = fake((_, __, original) => failing("ERR_SSL_WRONG_VERSION_NUMBER")(original))
      const error = yield* Effect.flip((yield* requester(client, { retry: false })).requestJson(get))
      assert.include(error.message, "plain HTTP")
    }))

  it.effect("fault 9: 403 'Resource not accessible by integration' with remaining 0 is GithubForbidden", () =>
    Effect.gen(function*() {
      const client = fake(() =>
        json({ message: "Resource not accessible by integration" }, {
          status: 403,
          headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3600", date: httpDate(0) }
        })
      )
      const error = yield* Effect.flip((yield* requester(client)).requestJson(get))
      assert.strictEqual(error._tag, "GithubForbidden")
      assert.strictEqual(client.seen.length, 1)
    }))

  it.effect("a 403 'API rate limit exceeded' with remaining 0 is still a primary limit", () =>
    Effect.gen(function*() {
      const client = fake(() =>
        json({ message: "API rate limit exceeded for installation ID 1." }, {
          status: 403,
          headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3600", date: httpDate(0) }
        })
      )
      const error = yield* Effect.flip((yield* requester(client, { retry: false })).requestJson(get))
      assert.deepInclude(error, { _tag: "GithubRateLimited", kind: "primary" })
    }))

  for (
    const link of [
      "<{next}>; rel=next",
      "<{next}>; rel=\"NEXT\"",
      "<{last}>; rel=\"last\", <{next}>; title=\"x\"; REL=\"prev next\"",
      "<{next}>;rel=next,<{last}>;rel=last"
    ]
  ) {
    it.effect(`fault 10: Link ${link} is followed`, () =>
      Effect.gen(function*() {
        const client = fake((seen) => {
          const page = Number(seen.url.searchParams.get("page") ?? "1")
          const next = `${seen.url.origin}/items?page=${page + 1}`
          return json([page], {
            headers: page < 3
              ? { link: link.replace("{next}", next).replace("{last}", `${seen.url.origin}/items?page=3`) }
              : {}
          })
        })
        const github = yield* requester(client)
        const items = yield* Stream.runCollect(github.paginate({ method: "GET", path: "/items" }, Schema.Number))
        assert.deepStrictEqual(Array.from(items), [1, 2, 3])
      }))
  }
})
