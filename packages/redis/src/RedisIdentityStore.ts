/**
 * GitHub's accounting per identity in Redis: pause, primary readings, spacing and the points and content budgets,
 * each operation one Lua script (atomic, one round trip), so that every process of a fleet takes its turns from
 * one shared picture. Times are the callers' (`Clock`), never Redis's.
 *
 * @since 0.1.0
 */
import type * as HttpRequester from "@effect-github/app/HttpRequester"
import * as IdentityStore from "@effect-github/app/IdentityStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type { Redis } from "ioredis"
import * as memoryIdentity from "./internal/memoryIdentity.js"
import * as scripts from "./internal/scripts.js"
import * as RedisClient from "./RedisClient.js"

interface Commands {
  egReserve(...args: Array<string | number>): Promise<[string, string, string]>
  egRelease(...args: Array<string | number>): Promise<number>
  egPause(...args: Array<string | number>): Promise<number>
  egRecord(...args: Array<string | number>): Promise<number>
}

/**
 * Reservations that had to wait, by what they waited for.
 *
 * @since 0.1.0
 * @category metrics
 */
export const waits = Metric.counter("effect_github_redis_reservation_waits", {
  description: "Reservations whose turn is later than their request",
  incremental: true
})

const invalid = (operation: string, description: string) =>
  Effect.fail(new IdentityStore.IdentityStoreError({ operation, description }))

const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n)
const validIdentity = (identity: unknown): identity is string =>
  typeof identity === "string" && identity.length > 0 && identity.length <= 200

const checkRequest = (identity: unknown, request: IdentityStore.ReserveRequest): string | undefined => {
  if (!validIdentity(identity)) return "identity must be a non-empty string (at most 200 characters)"
  if (typeof request !== "object" || request === null) return "request must be an object"
  if (!finite(request.now) || request.now < 0) return "now must be a finite epoch-milliseconds number"
  if (!finite(request.points) || request.points < 0 || !Number.isInteger(request.points)) {
    return "points must be a non-negative integer"
  }
  if (typeof request.contentCreating !== "boolean") return "contentCreating must be a boolean"
  if (typeof request.resource !== "string" || request.resource.length === 0) return "resource must be a string"
  const limits = request.limits
  if (typeof limits !== "object" || limits === null) return "limits must be an object"
  for (const name of ["requestGap", "writeGap", "pointsPerMinute", "contentPerMinute", "contentPerHour"] as const) {
    if (!finite(limits[name]) || limits[name] < 0) return `limits.${name} must be a non-negative number`
  }
  return undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<IdentityStore.Service, never, RedisClient.RedisClient> = Effect.gen(function*() {
  const client = yield* RedisClient.RedisClient
  const redis = client.redis as Redis & Commands
  redis.defineCommand("egReserve", { numberOfKeys: 3, lua: scripts.reserve })
  redis.defineCommand("egRelease", { numberOfKeys: 2, lua: scripts.release })
  redis.defineCommand("egPause", { numberOfKeys: 1, lua: scripts.pause })
  redis.defineCommand("egRecord", { numberOfKeys: 1, lua: scripts.record })
  const memory = memoryIdentity.make()
  // a hash tag per identity keeps its keys in one slot (Redis Cluster runs a script only on one slot)
  const keys = (identity: string) => {
    const base = `${client.prefix}id:{${identity}}`
    return { entries: `${base}:e`, content: `${base}:c`, state: `${base}:s` }
  }

  const guarded = <A>(
    operation: string,
    identity: string,
    onRedis: Effect.Effect<A, RedisClient.RedisError>,
    inMemory: () => A
  ): Effect.Effect<A, IdentityStore.IdentityStoreError> =>
    onRedis.pipe(
      Effect.catchAll((error) =>
        client.onFailure === "memory"
          ? Effect.zipRight(client.fellBack("the identity store", error), Effect.sync(inMemory))
          : Effect.fail(new IdentityStore.IdentityStoreError({ operation, description: error.message }))
      ),
      Effect.withSpan(`RedisIdentityStore.${operation}`, { attributes: { identity } })
    )

  const reserve = (
    identity: IdentityStore.Identity,
    request: IdentityStore.ReserveRequest
  ): Effect.Effect<IdentityStore.Reservation, IdentityStore.IdentityStoreError> => {
    const problem = checkRequest(identity, request)
    if (problem !== undefined) return invalid("reserve", problem)
    const k = keys(identity)
    const { limits } = request
    return guarded(
      "reserve",
      identity,
      Effect.map(
        client.run("reserve", (r) =>
          (r as Redis & Commands).egReserve(
            k.entries,
            k.content,
            k.state,
            request.now,
            request.points,
            request.contentCreating ? 1 : 0,
            request.resource,
            limits.requestGap,
            limits.writeGap,
            limits.pointsPerMinute,
            limits.contentPerMinute,
            limits.contentPerHour
          )),
        ([id, at, why]): IdentityStore.Reservation => ({
          id,
          at: Number(at),
          waitingFor: why === "" ? undefined : (why as IdentityStore.Reservation["waitingFor"])
        })
      ),
      () => memory.reserve(identity, request)
    ).pipe(
      Effect.tap((reservation) =>
        reservation.waitingFor === undefined
          ? Effect.void
          : Metric.increment(Metric.tagged(waits, "waiting_for", reservation.waitingFor))
      )
    )
  }

  const release = (identity: IdentityStore.Identity, reservationId: string) => {
    if (!validIdentity(identity)) return invalid("release", "identity must be a non-empty string")
    if (typeof reservationId !== "string") return invalid("release", "reservationId must be a string")
    const k = keys(identity)
    // a turn taken from memory (while Redis was down) is given back there
    if (reservationId.startsWith("m")) return Effect.sync(() => memory.release(identity, reservationId))
    return guarded(
      "release",
      identity,
      Effect.asVoid(
        client.run("release", (r) => (r as Redis & Commands).egRelease(k.entries, k.content, reservationId))
      ),
      () => undefined
    )
  }

  const pause = (identity: IdentityStore.Identity, until: number) => {
    if (!validIdentity(identity)) return invalid("pause", "identity must be a non-empty string")
    if (!finite(until)) return invalid("pause", "until must be a finite epoch-milliseconds number")
    const k = keys(identity)
    // kept in memory as well, so that a fallback still honours a pause seen before Redis failed
    memory.pause(identity, until)
    return guarded(
      "pause",
      identity,
      Effect.asVoid(client.run("pause", (r) => (r as Redis & Commands).egPause(k.state, Math.ceil(until)))),
      () => undefined
    )
  }

  const pausedUntil = (identity: IdentityStore.Identity) => {
    if (!validIdentity(identity)) return invalid("pausedUntil", "identity must be a non-empty string")
    const k = keys(identity)
    return guarded(
      "pausedUntil",
      identity,
      Effect.map(client.run("pausedUntil", (r) => r.hget(k.state, "pausedUntil")), (v) => (v === null ? 0 : Number(v))),
      () => memory.pausedUntil(identity)
    )
  }

  const record = (identity: IdentityStore.Identity, reading: HttpRequester.RateLimit, blockedUntil: number) => {
    if (!validIdentity(identity)) return invalid("record", "identity must be a non-empty string")
    if (
      typeof reading !== "object" || reading === null || typeof reading.resource !== "string" ||
      !finite(reading.limit) || !finite(reading.remaining) || !finite(reading.used) ||
      (reading.resetAt !== undefined && (!(reading.resetAt instanceof Date) || !finite(reading.resetAt.getTime()))) ||
      !finite(blockedUntil)
    ) return invalid("record", "reading must be a RateLimit and blockedUntil a finite number")
    const k = keys(identity)
    memory.record(identity, reading, blockedUntil)
    const json = JSON.stringify({
      limit: reading.limit,
      remaining: reading.remaining,
      used: reading.used,
      resetAt: reading.resetAt === undefined ? null : reading.resetAt.getTime(),
      blockedUntil
    })
    return guarded(
      "record",
      identity,
      Effect.asVoid(client.run("record", (r) => (r as Redis & Commands).egRecord(k.state, reading.resource, json))),
      () => undefined
    )
  }

  const readingOf = (identity: IdentityStore.Identity, resource: string) => {
    if (!validIdentity(identity)) return invalid("reading", "identity must be a non-empty string")
    if (typeof resource !== "string") return invalid("reading", "resource must be a string")
    const k = keys(identity)
    return guarded(
      "reading",
      identity,
      Effect.flatMap(client.run("reading", (r) => r.hget(k.state, `r:${resource}`)), (raw) =>
        Effect.try({
          try: (): Option.Option<HttpRequester.RateLimit> => {
            if (raw === null) return Option.none()
            const v = JSON.parse(raw) as Record<string, number | null>
            return Option.some({
              resource,
              limit: Number(v.limit),
              remaining: Number(v.remaining),
              used: Number(v.used),
              ...(typeof v.resetAt === "number" ? { resetAt: new Date(v.resetAt) } : {})
            })
          },
          catch: () => new RedisClient.RedisError({ operation: "reading", description: "stored reading is not JSON" })
        })),
      () => memory.reading(identity, resource)
    )
  }

  return IdentityStore.IdentityStore.of({ reserve, release, pause, pausedUntil, record, reading: readingOf })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<IdentityStore.IdentityStore, never, RedisClient.RedisClient> = Layer.effect(
  IdentityStore.IdentityStore,
  make
)
