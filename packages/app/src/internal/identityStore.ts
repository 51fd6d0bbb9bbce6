/**
 * The in-memory `IdentityStore`: GitHub's accounting per identity, kept in this process (the Redis store
 * implements the same rules in Lua).
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { RateLimit } from "../HttpRequester.js"
import type { Identity, Limits, Reservation, ReserveRequest, Service } from "../IdentityStore.js"

const minute = 60_000
const hour = 3_600_000

interface Entry {
  readonly id: string
  readonly at: number
  readonly points: number
  readonly content: boolean
}

interface Reading {
  readonly reading: RateLimit
  readonly blockedUntil: number
}

interface State {
  pausedUntil: number
  /** Reservations in the order they were made; `at` never decreases along it. */
  entries: Array<Entry>
  readonly readings: Map<string, Reading>
}

type WaitingFor = NonNullable<Reservation["waitingFor"]>

/**
 * The earliest `at` at or after `start` where one more entry keeps `count` (of the entries `counts`) within
 * `max` in every window of `window` ms; `entries` end at or before `start`.
 */
const fitWindow = (
  entries: ReadonlyArray<Entry>,
  start: number,
  window: number,
  max: number,
  weight: (entry: Entry) => number,
  cost: number
): number => {
  if (max <= 0 || !Number.isFinite(max)) return start
  let at = start
  for (;;) {
    let used = 0
    let oldest: number | undefined
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!
      if (entry.at <= at - window) break
      const w = weight(entry)
      if (w === 0) continue
      used += w
      oldest = entry.at
    }
    // a single request costing more than the window allows can only wait for an empty window
    if (used + cost <= max || oldest === undefined) return at
    at = oldest + window
  }
}

const points = (entry: Entry) => entry.points
const content = (entry: Entry) => (entry.content ? 1 : 0)

/**
 * The store's synchronous core, one step per operation: nothing can interleave inside a step.
 *
 * @internal
 */
export class MemoryIdentities {
  private readonly states = new Map<Identity, State>()
  private counter = 0

  private state(identity: Identity): State {
    let state = this.states.get(identity)
    if (state === undefined) {
      state = { pausedUntil: 0, entries: [], readings: new Map() }
      this.states.set(identity, state)
    }
    return state
  }

  reserve(identity: Identity, request: ReserveRequest): Reservation {
    const state = this.state(identity)
    const { limits, now } = request
    const entries = prune(state, now)
    let at = now
    let waitingFor: WaitingFor | undefined
    const atLeast = (time: number, why: WaitingFor) => {
      if (time > at) {
        at = time
        waitingFor = why
      }
    }
    atLeast(state.pausedUntil, "paused")
    const reading = state.readings.get(request.resource)
    if (reading !== undefined && reading.reading.remaining === 0) atLeast(reading.blockedUntil, "primary")
    if (entries.length > 0) atLeast(entries[entries.length - 1]!.at + limits.requestGap, "spacing")
    if (request.contentCreating && limits.writeGap > 0) {
      for (let i = entries.length - 1; i >= 0; i--) {
        if (entries[i]!.content) {
          atLeast(entries[i]!.at + limits.writeGap, "spacing")
          break
        }
      }
    }
    atLeast(fitAll(entries, at, request, limits), "points")
    if (request.contentCreating) {
      const before = at
      atLeast(fitContent(entries, at, limits), "content")
      // the content limits may have moved `at` into a window the points had to be checked against again
      if (at > before) atLeast(fitAll(entries, at, request, limits), "points")
    }
    const id = String(++this.counter)
    entries.push({ id, at, points: request.points, content: request.contentCreating })
    return waitingFor === undefined || at <= now ? { id, at } : { id, at, waitingFor }
  }

  release(identity: Identity, id: string): void {
    const state = this.states.get(identity)
    if (state === undefined) return
    const i = state.entries.findIndex((entry) => entry.id === id)
    if (i >= 0) state.entries.splice(i, 1)
  }

  pause(identity: Identity, until: number): void {
    const state = this.state(identity)
    if (until > state.pausedUntil) state.pausedUntil = until
  }

  pausedUntil(identity: Identity): number {
    return this.states.get(identity)?.pausedUntil ?? 0
  }

  record(identity: Identity, reading: RateLimit, blockedUntil: number): void {
    this.state(identity).readings.set(reading.resource, { reading, blockedUntil })
  }

  reading(identity: Identity, resource: string): RateLimit | undefined {
    return this.states.get(identity)?.readings.get(resource)?.reading
  }
}

const prune = (state: State, now: number): Array<Entry> => {
  const entries = state.entries
  let dead = 0
  while (dead < entries.length && entries[dead]!.at <= now - hour) dead++
  if (dead > 0) state.entries = entries.slice(dead)
  return state.entries
}

const fitAll = (entries: ReadonlyArray<Entry>, start: number, request: ReserveRequest, limits: Limits) =>
  fitWindow(entries, start, minute, limits.pointsPerMinute, points, request.points)

const fitContent = (entries: ReadonlyArray<Entry>, start: number, limits: Limits): number => {
  let at = start
  for (;;) {
    const next = fitWindow(
      entries,
      fitWindow(entries, at, minute, limits.contentPerMinute, content, 1),
      hour,
      limits.contentPerHour,
      content,
      1
    )
    if (next === at) return at
    at = next
  }
}

/**
 * The `Service` over one `MemoryIdentities`.
 *
 * @internal
 */
export const serviceOf = (core: MemoryIdentities): Service => ({
  reserve: (identity, request) => Effect.sync(() => core.reserve(identity, request)),
  release: (identity, id) => Effect.sync(() => core.release(identity, id)),
  pause: (identity, until) => Effect.sync(() => core.pause(identity, until)),
  pausedUntil: (identity) => Effect.sync(() => core.pausedUntil(identity)),
  record: (identity, reading, blockedUntil) => Effect.sync(() => core.record(identity, reading, blockedUntil)),
  reading: (identity, resource) => Effect.sync(() => Option.fromNullable(core.reading(identity, resource)))
})
