import { Integration } from "@effect-github/app"
import * as IdentityStore from "@effect-github/app/IdentityStore"
import * as RedisClient from "@effect-github/redis/RedisClient"
import * as RedisIdentityStore from "@effect-github/redis/RedisIdentityStore"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { build, freshPrefix, noRedis, redisUrl } from "./redis.js"

describe.skipIf(noRedis)("a secondary limit seen by one client of a fleet", () => {
  it.effect("pauses the identity for every client sharing Redis: none sends until GitHub's wait has passed", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 1 })
      const prefix = freshPrefix()
      // two workers: each its own Redis connection and its own requester, one identity (the app) between them
      const worker = () =>
        build(
          Integration.Integration,
          Integration.layerApp({
            appId: sim.app.id,
            privateKey: sim.app.privateKey,
            baseUrl: sim.baseUrl,
            retry: false
          })
            .pipe(
              Layer.provide(sim.layer),
              Layer.provide(
                RedisIdentityStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
              )
            )
        )
      const a = yield* worker()
      const b = yield* worker()
      yield* sim.fault("GET /app", Fault.secondaryRateLimit({ retryAfter: "60 seconds" }))
      const limited = yield* Effect.flip(a.getApp())
      assert.strictEqual(limited._tag, "GithubRateLimited")
      assert.strictEqual(yield* sim.count("GET /app"), 1)
      const waiting = yield* Effect.fork(b.getApp())
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(yield* sim.count("GET /app"), 1, "the other worker sent while the identity was paused")
      yield* TestClock.adjust("2 seconds")
      const app = yield* Fiber.join(waiting)
      assert.strictEqual(app.id, sim.app.id)
      assert.strictEqual(yield* sim.count("GET /app"), 2)
      // the pause is in Redis, under the app's identity
      const store = yield* build(
        IdentityStore.IdentityStore,
        RedisIdentityStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
      )
      assert.isTrue((yield* store.pausedUntil(IdentityStore.app(String(sim.app.id)))) >= 60_000)
    }).pipe(Effect.scoped))
})
