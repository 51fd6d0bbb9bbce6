import type { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as TokenStore from "@effect-github/app/TokenStore"
import * as RedisClient from "@effect-github/redis/RedisClient"
import * as RedisTokenStore from "@effect-github/redis/RedisTokenStore"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Redis from "ioredis"
import {
  authorization,
  build,
  clientLayer,
  deadUrl,
  dump,
  freshPrefix,
  newKey,
  noRedis,
  ownServer,
  raw,
  redisUrl
} from "./redis.js"

const HOUR = 3_600_000

const storeOf = (options: Partial<RedisClient.Options> & { keys?: RedisTokenStore.Options["keys"] } = {}) =>
  build(
    TokenStore.TokenStore,
    RedisTokenStore.layer({ keys: options.keys ?? newKey(), pollInterval: "20 millis" }).pipe(
      Layer.provide(RedisClient.layer({ url: redisUrl, prefix: freshPrefix(), ...options }))
    )
  )

/** A mint that counts itself and hands out "ghs_<n>" tokens good for an hour. */
const counter = Effect.gen(function*() {
  const count = yield* Ref.make(0)
  const mint = (delay: Duration.DurationInput = "0 millis") =>
    Effect.gen(function*() {
      const n = yield* Ref.updateAndGet(count, (c) => c + 1)
      yield* Effect.sleep(delay)
      const now = yield* Clock.currentTimeMillis
      return authorization(`ghs_secret_token_${n}_${Math.random().toString(36).slice(2)}`, now + HOUR)
    })
  return { count, mint }
})

const get = (store: TokenStore.Service, key: string, mint: Effect.Effect<InstallationAuthorization>) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => store.getOrMint(key, { goodAfter: now, mintTimeout: 2000 }, mint))

const text = (a: InstallationAuthorization) => Redacted.value(a.token)

describe.skipIf(noRedis)("RedisTokenStore", () => {
  it.live("a miss mints, a later get (from another connection) is a hit", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const key = newKey()
      const a = yield* storeOf({ prefix, keys: key })
      const b = yield* storeOf({ prefix, keys: key })
      const { count, mint } = yield* counter
      const first = yield* get(a, "installation:1", mint())
      const second = yield* get(b, "installation:1", mint())
      assert.strictEqual(yield* Ref.get(count), 1)
      assert.strictEqual(text(second), text(first))
      assert.strictEqual(second.expires_at.getTime(), first.expires_at.getTime())
      // a token not good long enough is minted anew
      const later = yield* b.getOrMint(
        "installation:1",
        { goodAfter: first.expires_at.getTime(), mintTimeout: 2000 },
        mint()
      )
      assert.strictEqual(yield* Ref.get(count), 2)
      assert.notStrictEqual(text(later), text(first))
    }).pipe(Effect.scoped))

  it.live("one mint for 60 concurrent gets from 4 connections", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const key = newKey()
      const stores = yield* Effect.forEach([1, 2, 3, 4], () => storeOf({ prefix, keys: key }))
      const { count, mint } = yield* counter
      const got = yield* Effect.forEach(
        Array.from({ length: 60 }, (_, i) => stores[i % 4]),
        (store) => get(store, "installation:2", mint("100 millis")),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(yield* Ref.get(count), 1)
      assert.strictEqual(new Set(got.map(text)).size, 1)
    }).pipe(Effect.scoped))

  it.live("at rest: no key or value holds token text; the entry is sealed to its own key name", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const store = yield* storeOf({ prefix })
      const { mint } = yield* counter
      const tokens: Array<string> = []
      for (let i = 0; i < 20; i++) tokens.push(text(yield* get(store, `installation:${i}`, mint())))
      const r: Redis.Redis = yield* raw
      const entries = yield* dump(r, prefix)
      assert.isTrue(entries.length >= 20)
      for (const { key, value } of entries) {
        for (const token of tokens) {
          assert.isFalse(key.includes(token))
          assert.isFalse(value.includes(token))
          assert.isFalse(value.includes(Buffer.from(token).toString("base64")))
        }
        assert.isFalse(value.includes("ghs_"))
      }
      // an entry copied under another key does not open there (the key name is the cipher's associated data)
      const one = yield* Effect.promise(() => r.get(`${prefix}tok:{installation:1}`))
      yield* Effect.promise(() => r.set(`${prefix}tok:{installation:999}`, one!, "PX", 60_000))
      const { count, mint: mint2 } = yield* counter
      yield* get(store, "installation:999", mint2())
      assert.strictEqual(yield* Ref.get(count), 1)
    }).pipe(Effect.scoped))

  it.live("a wrong key reads as a miss; a rotated list decrypts with the older key and seals with the newest", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const oldKey = newKey()
      const newer = newKey()
      const old = yield* storeOf({ prefix, keys: oldKey })
      const wrong = yield* storeOf({ prefix, keys: newKey() })
      const rotated = yield* storeOf({ prefix, keys: [newer, oldKey] })
      const onlyNew = yield* storeOf({ prefix, keys: newer })
      const { count, mint } = yield* counter
      const original = yield* get(old, "installation:3", mint())
      const viaRotated = yield* get(rotated, "installation:3", mint())
      assert.strictEqual(yield* Ref.get(count), 1)
      assert.strictEqual(text(viaRotated), text(original))
      const viaWrong = yield* get(wrong, "installation:3", mint())
      assert.strictEqual(yield* Ref.get(count), 2)
      assert.notStrictEqual(text(viaWrong), text(original))
      // the rotated store mints a fresh one (the wrong key's entry does not open for it): sealed with the newest key
      const fresh = yield* get(rotated, "installation:3", mint())
      assert.strictEqual(yield* Ref.get(count), 3)
      assert.strictEqual(text(yield* get(onlyNew, "installation:3", mint())), text(fresh))
      assert.strictEqual(yield* Ref.get(count), 3)
    }).pipe(Effect.scoped))

  it.live("a corrupted entry reads as a miss and is replaced", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const store = yield* storeOf({ prefix })
      const r: Redis.Redis = yield* raw
      const { count, mint } = yield* counter
      for (
        const garbage of ["1.99999999999999.abc", "not-an-entry", "2.99999999999999.aaaaaaaa.bbbb.cccc.dddd"]
      ) {
        yield* Effect.promise(() => r.set(`${prefix}tok:{installation:4}`, garbage, "PX", 60_000))
        const got = yield* get(store, "installation:4", mint())
        assert.isTrue(text(got).startsWith("ghs_"))
      }
      assert.strictEqual(yield* Ref.get(count), 3)
      const stored = yield* Effect.promise(() => r.get(`${prefix}tok:{installation:4}`))
      assert.match(stored!, /^\d+\.\d+\.[0-9a-f]{8}\./)
    }).pipe(Effect.scoped))

  it.live("a lock left by a dead holder is freed by its expiry and the waiter mints", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const store = yield* storeOf({ prefix })
      const r: Redis.Redis = yield* raw
      // what a killed process leaves behind: its lock, with the PX of its mintTimeout
      yield* Effect.promise(() => r.set(`${prefix}tok:{installation:5}:lock`, "dead:1", "PX", 300))
      const { count, mint } = yield* counter
      const got = yield* get(store, "installation:5", mint())
      assert.isTrue(text(got).startsWith("ghs_"))
      assert.strictEqual(yield* Ref.get(count), 1)
    }).pipe(Effect.scoped))

  it.live("a failed mint frees the lock at once: the next get mints without waiting for expiry", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const store = yield* storeOf({ prefix })
      const r: Redis.Redis = yield* raw
      const failed = yield* Effect.flip(
        store.getOrMint("installation:6", { goodAfter: 0, mintTimeout: 600_000 }, Effect.fail("nope" as const))
      )
      assert.strictEqual(failed, "nope")
      assert.strictEqual(yield* Effect.promise(() => r.exists(`${prefix}tok:{installation:6}:lock`)), 0)
      const { count, mint } = yield* counter
      yield* store.getOrMint("installation:6", { goodAfter: 0, mintTimeout: 600_000 }, mint())
      assert.strictEqual(yield* Ref.get(count), 1)
    }).pipe(Effect.scoped))

  it.live("a live holder keeps its lock past mintTimeout: a slow mint is not taken over", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const key = newKey()
      const slow = yield* storeOf({ prefix, keys: key })
      const other = yield* storeOf({ prefix, keys: key })
      const { count, mint } = yield* counter
      const first = yield* Effect.fork(
        slow.getOrMint("installation:7", { goodAfter: 0, mintTimeout: 150 }, mint("600 millis"))
      )
      yield* Effect.sleep("50 millis")
      const second = yield* other.getOrMint("installation:7", { goodAfter: 0, mintTimeout: 150 }, mint())
      assert.strictEqual(text(second), text(yield* Effect.flatten(first.await)))
      assert.strictEqual(yield* Ref.get(count), 1)
    }).pipe(Effect.scoped))

  it.live("fencing: a holder whose lock was lost does not overwrite the token of the one that took over", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const key = newKey()
      const slow = yield* storeOf({ prefix, keys: key })
      const quick = yield* storeOf({ prefix, keys: key })
      const r: Redis.Redis = yield* raw
      const { mint } = yield* counter
      const late = yield* Effect.fork(
        slow.getOrMint("installation:8", { goodAfter: 0, mintTimeout: 5000 }, mint("600 millis"))
      )
      yield* Effect.sleep("50 millis")
      // the slow holder's lock is gone while it still mints (a stall longer than its lock, a failover)
      assert.strictEqual(yield* Effect.promise(() => r.del(`${prefix}tok:{installation:8}:lock`)), 1)
      const winner = yield* quick.getOrMint("installation:8", { goodAfter: 0, mintTimeout: 5000 }, mint())
      const loser = yield* late.await.pipe(Effect.flatten)
      assert.notStrictEqual(text(loser), text(winner))
      const reader = yield* storeOf({ prefix, keys: key })
      const { count, mint: mint2 } = yield* counter
      assert.strictEqual(text(yield* get(reader, "installation:8", mint2())), text(winner))
      assert.strictEqual(yield* Ref.get(count), 0)
    }).pipe(Effect.scoped))

  it.live("remove forgets the token", () =>
    Effect.gen(function*() {
      const store = yield* storeOf()
      const { count, mint } = yield* counter
      yield* get(store, "installation:9", mint())
      yield* store.remove("installation:9")
      yield* get(store, "installation:9", mint())
      assert.strictEqual(yield* Ref.get(count), 2)
    }).pipe(Effect.scoped))

  it.live("bad keys and bad input are typed errors", () =>
    Effect.gen(function*() {
      const short = yield* Effect.flip(storeOf({ keys: Redacted.make("abcd") }))
      assert.strictEqual(short._tag, "TokenStoreError")
      assert.isFalse(short.message.includes("abcd"))
      const none = yield* Effect.flip(storeOf({ keys: [] }))
      assert.strictEqual(none._tag, "TokenStoreError")
      const store = yield* storeOf()
      const { mint } = yield* counter
      const bad = yield* Effect.flip(
        store.getOrMint(undefined as unknown as string, { goodAfter: 0, mintTimeout: 1 }, mint())
      )
      assert.strictEqual(bad._tag, "TokenStoreError")
      const nan = yield* Effect.flip(store.getOrMint("k", { goodAfter: NaN, mintTimeout: 1 }, mint()))
      assert.strictEqual(nan._tag, "TokenStoreError")
    }).pipe(Effect.scoped))

  describe("when Redis fails", () => {
    it.live("unreachable from the start, onFailure fail: TokenStoreError and no mint", () =>
      Effect.gen(function*() {
        const url = yield* deadUrl
        const store = yield* build(
          TokenStore.TokenStore,
          RedisTokenStore.layer({ keys: newKey() }).pipe(Layer.provide(clientLayer({ url, onFailure: "fail" })))
        )
        const { count, mint } = yield* counter
        const error = yield* Effect.flip(get(store, "installation:1", mint()))
        assert.strictEqual(error._tag, "TokenStoreError")
        assert.strictEqual(yield* Ref.get(count), 0)
      }).pipe(Effect.scoped))

    it.live("unreachable from the start, onFailure memory: one mint per process per key", () =>
      Effect.gen(function*() {
        const url = yield* deadUrl
        const store = yield* build(
          TokenStore.TokenStore,
          RedisTokenStore.layer({ keys: newKey() }).pipe(Layer.provide(clientLayer({ url, onFailure: "memory" })))
        )
        const { count, mint } = yield* counter
        const got = yield* Effect.forEach(
          Array.from({ length: 20 }, () => "installation:1"),
          (key) => get(store, key, mint("20 millis")),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(yield* Ref.get(count), 1)
        assert.strictEqual(new Set(got.map(text)).size, 1)
      }).pipe(Effect.scoped))

    it.live("Redis restarted mid-run: tokens minted before are not lost, none is served expired, Redis is used again", () =>
      Effect.gen(function*() {
        const server = yield* ownServer
        yield* server.start
        const store = yield* build(
          TokenStore.TokenStore,
          RedisTokenStore.layer({ keys: newKey(), pollInterval: "20 millis" }).pipe(
            Layer.provide(clientLayer({ url: server.url, onFailure: "memory" }))
          )
        )
        const { count, mint } = yield* counter
        const before = yield* get(store, "installation:1", mint())
        yield* server.stop
        const during = yield* get(store, "installation:1", mint())
        assert.strictEqual(text(during), text(before))
        assert.strictEqual(yield* Ref.get(count), 1)
        // asked for one good after the held one's expiry: never the expired one
        const fresh = yield* store.getOrMint(
          "installation:1",
          { goodAfter: before.expires_at.getTime(), mintTimeout: 2000 },
          mint()
        )
        assert.notStrictEqual(text(fresh), text(before))
        yield* server.start
        // once reconnected, the store writes to Redis again: a new key's token is there for a second connection
        let stored = 0
        const r = new (yield* Effect.promise(() => import("ioredis"))).Redis(server.url)
        yield* Effect.addFinalizer(() => Effect.promise(() => r.quit()))
        for (let i = 0; i < 100 && stored === 0; i++) {
          yield* Effect.sleep("50 millis")
          yield* get(store, `installation:${100 + i}`, mint())
          stored = (yield* Effect.promise(() => r.keys("*tok:*"))).length
        }
        assert.isTrue(stored > 0, "the store did not return to Redis")
      }).pipe(Effect.scoped))
  })
})
