/**
 * The identity accounting in process memory, with the Redis scripts' semantics step for step: the Redis store's
 * fallback while Redis cannot be reached.
 */
import type * as HttpRequester from "@effect-github/app/HttpRequester"
import type * as IdentityStore from "@effect-github/app/IdentityStore"
import * as Option from "effect/Option"

const MINUTE = 60_000
const HOUR = 3_600_000

interface Entry {
  readonly id: string
  readonly at: number
  readonly points: number
  readonly content: boolean
}

interface State {
  pausedUntil: number
  seq: number
  // kept sorted by `at` (ties in insertion order, as a Redis zset orders equal scores by member)
  entries: Array<Entry>
  readonly readings: Map<string, { readonly reading: HttpRequester.RateLimit; readonly blockedUntil: number }>
}

/** @internal */
export interface MemoryIdentity {
  readonly reserve: (identity: string, request: IdentityStore.ReserveRequest) => IdentityStore.Reservation
  readonly release: (identity: string, id: string) => void
  readonly pause: (identity: string, until: number) => void
  readonly pausedUntil: (identity: string) => number
  readonly record: (identity: string, reading: HttpRequester.RateLimit, blockedUntil: number) => void
  readonly reading: (identity: string, resource: string) => Option.Option<HttpRequester.RateLimit>
}

/** @internal */
export const make = (): MemoryIdentity => {
  const states = new Map<string, State>()
  const state = (identity: string): State => {
    let s = states.get(identity)
    if (s === undefined) {
      s = { pausedUntil: 0, seq: 0, entries: [], readings: new Map() }
      states.set(identity, s)
    }
    return s
  }
  const reserve = (identity: string, request: IdentityStore.ReserveRequest): IdentityStore.Reservation => {
    const s = state(identity)
    const { limits, now, points } = request
    s.entries = s.entries.filter((e) => e.at > now - HOUR)
    let at = now
    let why: IdentityStore.Reservation["waitingFor"] = undefined
    if (s.pausedUntil > at) {
      at = s.pausedUntil
      why = "paused"
    }
    const reading = s.readings.get(request.resource)
    if (reading !== undefined && reading.reading.remaining === 0 && reading.blockedUntil > at) {
      at = reading.blockedUntil
      why = "primary"
    }
    const last = s.entries[s.entries.length - 1]
    if (last !== undefined && last.at + limits.requestGap > at) {
      at = last.at + limits.requestGap
      why = "spacing"
    }
    const contents = () => s.entries.filter((e) => e.content)
    if (request.contentCreating) {
      const c = contents()
      const lastContent = c[c.length - 1]
      if (lastContent !== undefined && lastContent.at + limits.writeGap > at) {
        at = lastContent.at + limits.writeGap
        why = "spacing"
      }
    }
    const inWindow = (list: ReadonlyArray<Entry>, span: number) => list.filter((e) => e.at > at - span && e.at <= at)
    while (true) {
      let moved = false
      const window = inWindow(s.entries, MINUTE)
      if (window.length > 0) {
        const sum = window.reduce((n, e) => n + e.points, 0)
        if (sum + points > limits.pointsPerMinute) {
          at = window[0].at + MINUTE
          why = "points"
          moved = true
        }
      }
      if (request.contentCreating && !moved) {
        const minute = inWindow(contents(), MINUTE)
        if (minute.length > 0 && minute.length + 1 > limits.contentPerMinute) {
          at = minute[0].at + MINUTE
          why = "content"
          moved = true
        } else {
          const hour = inWindow(contents(), HOUR)
          if (hour.length > 0 && hour.length + 1 > limits.contentPerHour) {
            at = hour[0].at + HOUR
            why = "content"
            moved = true
          }
        }
      }
      if (!moved) break
    }
    s.seq += 1
    const entry: Entry = { id: `m${s.seq}:${points}`, at, points, content: request.contentCreating }
    let i = s.entries.length
    while (i > 0 && s.entries[i - 1].at > at) i--
    s.entries.splice(i, 0, entry)
    return { id: entry.id, at, waitingFor: why }
  }
  return {
    reserve,
    release: (identity, id) => {
      const s = states.get(identity)
      if (s !== undefined) s.entries = s.entries.filter((e) => e.id !== id)
    },
    pause: (identity, until) => {
      const s = state(identity)
      if (until > s.pausedUntil) s.pausedUntil = until
    },
    pausedUntil: (identity) => states.get(identity)?.pausedUntil ?? 0,
    record: (identity, reading, blockedUntil) => {
      state(identity).readings.set(reading.resource, { reading, blockedUntil })
    },
    reading: (identity, resource) => Option.fromNullable(states.get(identity)?.readings.get(resource)?.reading)
  }
}
