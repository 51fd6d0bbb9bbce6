/**
 * The IdentityStore semantics as cases any store must pass (the Redis store, its memory fallback; the in-memory
 * store of @effect-github/app can run them too). Times are TestClock's, given to the store as `now`.
 */
import type * as HttpRequester from "@effect-github/app/HttpRequester"
import * as IdentityStore from "@effect-github/app/IdentityStore"
import { assert, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

const limits = (overrides: Partial<IdentityStore.Limits> = {}): IdentityStore.Limits => ({
  requestGap: 0,
  writeGap: 0,
  pointsPerMinute: 900,
  contentPerMinute: 80,
  contentPerHour: 500,
  ...overrides
})

let n = 0
const fresh = () => IdentityStore.installation(100_000 + n++)

const reserve = (
  identity: string,
  options: { points?: number; content?: boolean; resource?: string; limits?: Partial<IdentityStore.Limits> } = {}
) =>
  Effect.gen(function*() {
    const store = yield* IdentityStore.IdentityStore
    const now = yield* Clock.currentTimeMillis
    return yield* store.reserve(identity, {
      now,
      points: options.points ?? 1,
      contentCreating: options.content ?? false,
      resource: options.resource ?? "core",
      limits: limits(options.limits)
    })
  })

const reading = (remaining: number, resource = "core"): HttpRequester.RateLimit => ({
  resource,
  limit: 5000,
  remaining,
  used: 5000 - remaining,
  resetAt: new Date(1_800_000_000_000)
})

export const identityStoreContract = (
  layer: () => Layer.Layer<IdentityStore.IdentityStore, unknown>,
  options: { readonly validatesInput?: boolean } = {}
) => {
  const run = <A, E>(effect: Effect.Effect<A, E, IdentityStore.IdentityStore>) =>
    Effect.provide(effect, layer()).pipe(Effect.orDie)

  it.effect("a first turn is now, with no wait", () =>
    run(Effect.gen(function*() {
      yield* TestClock.adjust("1000 millis")
      const r = yield* reserve(fresh())
      assert.strictEqual(r.at, 1000)
      assert.strictEqual(r.waitingFor, undefined)
    })))

  it.effect("requests are spaced by requestGap after the last turn, and never before it", () =>
    run(Effect.gen(function*() {
      const id = fresh()
      const a = yield* reserve(id, { limits: { requestGap: 250 } })
      const b = yield* reserve(id, { limits: { requestGap: 250 } })
      const c = yield* reserve(id, { limits: { requestGap: 250 } })
      assert.deepStrictEqual([a.at, b.at, c.at], [0, 250, 500])
      assert.strictEqual(b.waitingFor, "spacing")
      yield* TestClock.adjust("2 seconds")
      const d = yield* reserve(id, { limits: { requestGap: 250 } })
      assert.strictEqual(d.at, 2000)
      assert.strictEqual(d.waitingFor, undefined)
      // with no gap a turn still comes after the last one taken
      const e = yield* reserve(id, { limits: { requestGap: 0 } })
      assert.strictEqual(e.at, 2000)
    })))

  it.effect("content-creating writes are spaced by writeGap from the last write, reads are not", () =>
    run(Effect.gen(function*() {
      const id = fresh()
      const w1 = yield* reserve(id, { content: true, points: 5, limits: { writeGap: 1000 } })
      const r1 = yield* reserve(id, { limits: { writeGap: 1000 } })
      const w2 = yield* reserve(id, { content: true, points: 5, limits: { writeGap: 1000 } })
      assert.deepStrictEqual([w1.at, r1.at, w2.at], [0, 0, 1000])
      assert.strictEqual(w2.waitingFor, "spacing")
    })))

  it.effect("points in a sliding minute: a turn waits until the oldest entry leaves the window", () =>
    run(Effect.gen(function*() {
      const id = fresh()
      const l = { pointsPerMinute: 10 }
      yield* reserve(id, { points: 5, limits: l })
      yield* TestClock.adjust("10 seconds")
      yield* reserve(id, { points: 5, limits: l })
      const third = yield* reserve(id, { points: 5, limits: l })
      assert.strictEqual(third.at, 60_000)
      assert.strictEqual(third.waitingFor, "points")
      // the window (at - 60 s, at] now holds 10 s and 60 s: the next waits for 10 s to leave
      const fourth = yield* reserve(id, { points: 5, limits: l })
      assert.strictEqual(fourth.at, 70_000)
      const small = yield* reserve(id, { points: 1, limits: { pointsPerMinute: 11 } })
      assert.strictEqual(small.at, 70_000)
    })))

  it.effect("content per minute and per hour", () =>
    run(Effect.gen(function*() {
      const perMinute = fresh()
      const m = { contentPerMinute: 2 }
      yield* reserve(perMinute, { content: true, limits: m })
      yield* reserve(perMinute, { content: true, limits: m })
      const third = yield* reserve(perMinute, { content: true, limits: m })
      assert.strictEqual(third.at, 60_000)
      assert.strictEqual(third.waitingFor, "content")
      const read = yield* reserve(perMinute, { limits: m })
      assert.strictEqual(read.at, 60_000)

      const perHour = fresh()
      const h = { contentPerMinute: 100, contentPerHour: 3 }
      for (let i = 0; i < 3; i++) yield* reserve(perHour, { content: true, limits: h })
      const fourth = yield* reserve(perHour, { content: true, limits: h })
      assert.strictEqual(fourth.at, 3_600_000)
      assert.strictEqual(fourth.waitingFor, "content")
    })))

  it.effect("entries older than an hour are forgotten", () =>
    run(Effect.gen(function*() {
      const id = fresh()
      const l = { contentPerHour: 1, contentPerMinute: 100 }
      yield* reserve(id, { content: true, limits: l })
      yield* TestClock.adjust("3600001 millis")
      const next = yield* reserve(id, { content: true, limits: l })
      assert.strictEqual(next.at, 3_600_001)
      assert.strictEqual(next.waitingFor, undefined)
    })))

  it.effect("release gives a turn back: later turns move up", () =>
    run(Effect.gen(function*() {
      const store = yield* IdentityStore.IdentityStore
      const id = fresh()
      const l = { requestGap: 1000 }
      const a = yield* reserve(id, { limits: l })
      const b = yield* reserve(id, { limits: l })
      assert.strictEqual(b.at, 1000)
      yield* store.release(id, b.id)
      const c = yield* reserve(id, { limits: l })
      assert.strictEqual(c.at, 1000)
      yield* store.release(id, c.id)
      yield* store.release(id, a.id)
      const d = yield* reserve(id, { limits: l })
      assert.strictEqual(d.at, 0)
      // releasing an unknown or already released turn is harmless
      yield* store.release(id, a.id)
    })))

  it.effect("pause holds every request until its end and is never shortened", () =>
    run(Effect.gen(function*() {
      const store = yield* IdentityStore.IdentityStore
      const id = fresh()
      const other = fresh()
      assert.strictEqual(yield* store.pausedUntil(id), 0)
      yield* store.pause(id, 5000)
      yield* store.pause(id, 3000)
      assert.strictEqual(yield* store.pausedUntil(id), 5000)
      const r = yield* reserve(id)
      assert.strictEqual(r.at, 5000)
      assert.strictEqual(r.waitingFor, "paused")
      const free = yield* reserve(other)
      assert.strictEqual(free.at, 0)
      yield* store.pause(id, 8000)
      assert.strictEqual(yield* store.pausedUntil(id), 8000)
    })))

  it.effect("an exhausted primary reading holds its resource until blockedUntil; others go", () =>
    run(Effect.gen(function*() {
      const store = yield* IdentityStore.IdentityStore
      const id = fresh()
      assert.isTrue(Option.isNone(yield* store.reading(id, "core")))
      yield* store.record(id, reading(0), 9000)
      const core = yield* reserve(id)
      assert.strictEqual(core.at, 9000)
      assert.strictEqual(core.waitingFor, "primary")
      const search = yield* reserve(id, { resource: "search" })
      assert.strictEqual(search.at, 9000) // after the core turn already taken (no turn before the last)
      const id2 = fresh()
      yield* store.record(id2, reading(0, "search"), 9000)
      assert.strictEqual((yield* reserve(id2)).at, 0)
      // a reading with requests left does not block, whatever blockedUntil says
      const id3 = fresh()
      yield* store.record(id3, reading(12), 9000)
      assert.strictEqual((yield* reserve(id3)).at, 0)
      const back = yield* store.reading(id3, "core")
      assert.deepStrictEqual(
        Option.map(back, (r) => ({ ...r, resetAt: r.resetAt?.getTime() })),
        Option.some({
          resource: "core",
          limit: 5000,
          remaining: 12,
          used: 4988,
          resetAt: 1_800_000_000_000
        })
      )
      assert.isTrue(Option.isNone(yield* store.reading(id3, "graphql")))
    })))

  it.effect.skipIf(options.validatesInput === false)(
    "bad input is a typed error, not a throw",
    () =>
      run(Effect.gen(function*() {
        const store = yield* IdentityStore.IdentityStore
        const bad = yield* Effect.flip(
          store.reserve(undefined as unknown as string, {
            now: 0,
            points: 1,
            contentCreating: false,
            resource: "core",
            limits: limits()
          })
        )
        assert.strictEqual(bad._tag, "IdentityStoreError")
        const nan = yield* Effect.flip(
          store.reserve(fresh(), { now: NaN, points: 1, contentCreating: false, resource: "core", limits: limits() })
        )
        assert.strictEqual(nan._tag, "IdentityStoreError")
        const noLimits = yield* Effect.flip(
          store.reserve(fresh(), {
            now: 0,
            points: 1,
            contentCreating: false,
            resource: "core",
            limits: undefined as unknown as IdentityStore.Limits
          })
        )
        assert.strictEqual(noLimits._tag, "IdentityStoreError")
        assert.strictEqual(
          (yield* Effect.flip(store.pause(fresh(), "x" as unknown as number)))._tag,
          "IdentityStoreError"
        )
      }))
  )
}
