import * as IdentityStore from "@effect-github/app/IdentityStore"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const limits: IdentityStore.Limits = {
  requestGap: 0,
  writeGap: 0,
  pointsPerMinute: 900,
  contentPerMinute: 80,
  contentPerHour: 500
}
const read = (now: number, extra: Partial<IdentityStore.ReserveRequest> = {}): IdentityStore.ReserveRequest => ({
  now,
  points: 1,
  contentCreating: false,
  resource: "core",
  limits,
  ...extra
})

describe("IdentityStore.memory", () => {
  it.effect("spacing from the last turn; a released turn lets the next move up", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.memory
      const spaced = { ...limits, requestGap: 250 }
      const a = yield* store.reserve("app:1", read(0, { limits: spaced }))
      const b = yield* store.reserve("app:1", read(0, { limits: spaced }))
      assert.deepStrictEqual([a.at, b.at, b.waitingFor], [0, 250, "spacing"])
      yield* store.release("app:1", b.id)
      const c = yield* store.reserve("app:1", read(0, { limits: spaced }))
      assert.strictEqual(c.at, 250)
      // another identity is not spaced behind this one
      assert.strictEqual((yield* store.reserve("installation:1", read(0, { limits: spaced }))).at, 0)
    }))

  it.effect("900 points in any sliding minute: the next turn is when the oldest leaves the window", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.memory
      for (let i = 0; i < 180; i++) yield* store.reserve("app:1", read(i * 100, { points: 5 }))
      const next = yield* store.reserve("app:1", read(18_000, { points: 5 }))
      assert.deepStrictEqual([next.at, next.waitingFor], [60_000, "points"])
    }))

  it.effect("content-creating: 80 a minute and 500 an hour", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.memory
      const unlimitedPoints = { ...limits, pointsPerMinute: 0 }
      const write = (now: number) => read(now, { points: 5, contentCreating: true, limits: unlimitedPoints })
      let last = 0
      for (let i = 0; i < 500; i++) last = (yield* store.reserve("installation:1", write(last))).at
      // 80 per minute: the 500th is in minute 6
      assert.strictEqual(last, 6 * 60_000)
      const next = yield* store.reserve("installation:1", write(last))
      assert.deepStrictEqual([next.at, next.waitingFor], [3_600_000, "content"])
    }))

  it.effect("a pause never shortens; an exhausted reading holds back its resource only", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.memory
      yield* store.pause("app:1", 10_000)
      yield* store.pause("app:1", 5_000)
      assert.strictEqual(yield* store.pausedUntil("app:1"), 10_000)
      assert.deepStrictEqual((yield* store.reserve("app:1", read(0))).waitingFor, "paused")
      const reading = { resource: "search", limit: 30, remaining: 0, used: 30 }
      yield* store.record("installation:1", reading, 30_000)
      assert.deepStrictEqual(yield* store.reading("installation:1", "search"), Option.some(reading))
      assert.strictEqual((yield* store.reserve("installation:1", read(0))).at, 0)
      const search = yield* store.reserve("installation:1", read(0, { resource: "search" }))
      assert.deepStrictEqual([search.at, search.waitingFor], [30_000, "primary"])
    }))
})
