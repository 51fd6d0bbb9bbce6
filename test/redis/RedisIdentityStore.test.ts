import * as IdentityStore from "@effect-github/app/IdentityStore"
import * as RedisClient from "@effect-github/redis/RedisClient"
import * as RedisIdentityStore from "@effect-github/redis/RedisIdentityStore"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { identityStoreContract } from "./identityContract.js"
import { build, clientLayer, deadUrl, dump, freshPrefix, noRedis, ownServer, raw, redisUrl } from "./redis.js"

describe.skipIf(noRedis)("RedisIdentityStore", () => {
  describe("against redis-server", () => {
    identityStoreContract(() => RedisIdentityStore.layer.pipe(Layer.provide(clientLayer())))
  })

  describe("the in-memory store of @effect-github/app (the same semantics)", () => {
    // it takes input its requester already checked, so the bad-input case is the Redis store's alone
    identityStoreContract(() => IdentityStore.layerMemory, { validatesInput: false })
  })

  describe("its memory fallback (Redis unreachable, onFailure: memory)", () => {
    identityStoreContract(() =>
      RedisIdentityStore.layer.pipe(
        Layer.provide(Layer.unwrapEffect(Effect.map(deadUrl, (url) => clientLayer({ url, onFailure: "memory" }))))
      )
    )
  })

  it.live("one picture for every connection: concurrent reservations from 4 clients get distinct spaced turns", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const stores = yield* Effect.forEach([1, 2, 3, 4], () =>
        build(
          IdentityStore.IdentityStore,
          RedisIdentityStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
        ))
      const identity = IdentityStore.installation(7)
      const turns = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => stores[i % 4]),
        (store) =>
          store.reserve(identity, {
            now: 1_000_000,
            points: 1,
            contentCreating: false,
            resource: "core",
            limits: {
              requestGap: 100,
              writeGap: 0,
              pointsPerMinute: 10_000,
              contentPerMinute: 80,
              contentPerHour: 500
            }
          }),
        { concurrency: "unbounded" }
      )
      const ats = turns.map((t) => t.at).sort((a, b) => a - b)
      assert.deepStrictEqual(ats, Array.from({ length: 200 }, (_, i) => 1_000_000 + 100 * i))
      assert.strictEqual(new Set(turns.map((t) => t.id)).size, 200)
    }).pipe(Effect.scoped))

  it.live("a pause written by one client holds the identity in another", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const make = build(
        IdentityStore.IdentityStore,
        RedisIdentityStore.layer.pipe(Layer.provide(RedisClient.layer({ url: redisUrl, prefix })))
      )
      const a = yield* make
      const b = yield* make
      yield* a.pause(IdentityStore.app("1"), 50_000)
      const turn = yield* b.reserve(IdentityStore.app("1"), {
        now: 10_000,
        points: 1,
        contentCreating: false,
        resource: "core",
        limits: { requestGap: 0, writeGap: 0, pointsPerMinute: 900, contentPerMinute: 80, contentPerHour: 500 }
      })
      assert.strictEqual(turn.at, 50_000)
      assert.strictEqual(turn.waitingFor, "paused")
      // keys of one identity share a hash tag, all under the prefix
      const r = yield* raw
      const keys = (yield* dump(r, prefix)).map((e) => e.key)
      assert.isTrue(keys.length > 0)
      for (const key of keys) assert.isTrue(key.startsWith(`${prefix}id:{app:1}:`), key)
    }).pipe(Effect.scoped))

  it.live("onFailure fail: an unreachable Redis is an IdentityStoreError", () =>
    Effect.gen(function*() {
      const url = yield* deadUrl
      const store = yield* build(
        IdentityStore.IdentityStore,
        RedisIdentityStore.layer.pipe(Layer.provide(clientLayer({ url, onFailure: "fail" })))
      )
      const error = yield* Effect.flip(store.pause(IdentityStore.app("1"), 10))
      assert.strictEqual(error._tag, "IdentityStoreError")
      assert.strictEqual(error.operation, "pause")
    }).pipe(Effect.scoped))

  it.live("Redis restarted mid-run: fallback while it is down, shared state again once it is back", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      yield* server.start
      const store = yield* build(
        IdentityStore.IdentityStore,
        RedisIdentityStore.layer.pipe(Layer.provide(clientLayer({ url: server.url, onFailure: "memory" })))
      )
      const id = IdentityStore.installation(9)
      yield* store.pause(id, 7000)
      yield* server.stop
      // down: the pause seen before still holds (memory keeps it too)
      const during = yield* store.reserve(id, {
        now: 1000,
        points: 1,
        contentCreating: false,
        resource: "core",
        limits: { requestGap: 0, writeGap: 0, pointsPerMinute: 900, contentPerMinute: 80, contentPerHour: 500 }
      })
      assert.strictEqual(during.at, 7000)
      assert.isTrue(during.id.startsWith("m"))
      yield* store.release(id, during.id)
      yield* server.start
      // back (empty: the server kept nothing): reservations go to Redis again once it reconnects
      let id2 = ""
      for (let i = 0; i < 100 && (id2 === "" || id2.startsWith("m")); i++) {
        yield* Effect.sleep("50 millis")
        id2 = (yield* store.reserve(id, {
          now: 1000,
          points: 1,
          contentCreating: false,
          resource: "core",
          limits: { requestGap: 0, writeGap: 0, pointsPerMinute: 900, contentPerMinute: 80, contentPerHour: 500 }
        })).id
      }
      assert.isFalse(id2.startsWith("m"), "the store did not return to Redis")
    }).pipe(Effect.scoped))
})
