import * as DeliveryDedupe from "@effect-github/redis/DeliveryDedupe"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import type * as Redis from "ioredis"
import { build, clientLayer, deadUrl, freshPrefix, noRedis, raw } from "./redis.js"

describe.skipIf(noRedis)("DeliveryDedupe", () => {
  it.live("the first claim of a delivery id wins, in any connection; the entry expires with its TTL", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const a = yield* build(
        DeliveryDedupe.DeliveryDedupe,
        DeliveryDedupe.layer.pipe(Layer.provide(clientLayer({ prefix })))
      )
      const b = yield* build(
        DeliveryDedupe.DeliveryDedupe,
        DeliveryDedupe.layer.pipe(Layer.provide(clientLayer({ prefix })))
      )
      const claims = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b)),
        (d) => d.claim("72d3162e-cc78-11e3-81ab-4c9367dc0958", "1 hour"),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(claims.filter((c) => c).length, 1)
      assert.isTrue(yield* a.claim("another", "1 hour"))
      const r: Redis.Redis = yield* raw
      const ttl = yield* Effect.promise(() => r.pttl(`${prefix}delivery:another`))
      assert.isTrue(ttl > 0 && ttl <= 3_600_000)
      const bad = yield* Effect.flip(a.claim("", "1 hour"))
      assert.strictEqual(bad._tag, "DedupeError")
      assert.strictEqual((yield* Effect.flip(a.claim("x", "-1 millis" as never)))._tag, "DedupeError")
    }).pipe(Effect.scoped))

  it.effect("fallback: claims in memory expire on the caller's clock; onFailure fail is a DedupeError", () =>
    Effect.gen(function*() {
      const url = yield* deadUrl
      const memory = yield* build(
        DeliveryDedupe.DeliveryDedupe,
        DeliveryDedupe.layer.pipe(Layer.provide(clientLayer({ url, onFailure: "memory" })))
      )
      assert.isTrue(yield* memory.claim("d1", "10 seconds"))
      assert.isFalse(yield* memory.claim("d1", "10 seconds"))
      yield* TestClock.adjust("11 seconds")
      assert.isTrue(yield* memory.claim("d1", "10 seconds"))
      const failing = yield* build(
        DeliveryDedupe.DeliveryDedupe,
        DeliveryDedupe.layer.pipe(Layer.provide(clientLayer({ url, onFailure: "fail" })))
      )
      assert.strictEqual((yield* Effect.flip(failing.claim("d1", "10 seconds")))._tag, "DedupeError")
    }).pipe(Effect.scoped))
})
