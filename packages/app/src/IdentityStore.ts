/**
 * Where GitHub's accounting lives: the state of each identity GitHub counts (the app, each installation), shared
 * by every requester acting as it. In memory per layer by default; `@effect-github/redis` shares it across a fleet.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { RateLimit } from "./HttpRequester.js"
import * as internal from "./internal/identityStore.js"

/**
 * An accounting identity as GitHub counts it: `app:<issuer>` for requests signed with the app's JWT, and
 * `installation:<id>` for every token of one installation, whatever its scope. A store shared by several apps or
 * GitHub hosts is given a prefix of its own (the Redis store's `prefix`), so the identity names only what GitHub
 * counts within one app.
 *
 * @since 0.2.0
 * @category models
 */
export type Identity = string

/**
 * @since 0.2.0
 * @category constructors
 */
export const app = (issuer: string): Identity => `app:${issuer}`

/**
 * @since 0.2.0
 * @category constructors
 */
export const installation = (installationId: number): Identity => `installation:${installationId}`

/**
 * The limits one reservation must respect, all per identity: the requester's options, passed with every
 * reservation so that a store holds no configuration of its own (and a fleet's processes may differ).
 *
 * @since 0.2.0
 * @category models
 */
export interface Limits {
  /** Milliseconds between the starts of two requests (PyGithub's `seconds_between_requests`); 0 for none. */
  readonly requestGap: number
  /** Milliseconds between the starts of two content-creating writes (`seconds_between_writes`); 0 for none. */
  readonly writeGap: number
  /** Points allowed in any sliding 60-second window (GitHub: 900 for REST; GET/HEAD/OPTIONS 1, others 5). */
  readonly pointsPerMinute: number
  /** Content-creating requests allowed in any sliding minute (GitHub: 80). */
  readonly contentPerMinute: number
  /** Content-creating requests allowed in any sliding hour (GitHub: 500). */
  readonly contentPerHour: number
}

/**
 * One request asking for its turn.
 *
 * @since 0.2.0
 * @category models
 */
export interface ReserveRequest {
  /** Epoch milliseconds on the caller's `Clock` (so `TestClock` drives every store). */
  readonly now: number
  /** The request's cost in points (1 for GET/HEAD/OPTIONS, 5 otherwise). */
  readonly points: number
  /** A content-creating write: spaced by `writeGap` and counted against the content limits. */
  readonly contentCreating: boolean
  /** The primary rate-limit resource it counts against (`core`, `search`, ...): not sent while it is exhausted. */
  readonly resource: string
  readonly limits: Limits
}

/**
 * A turn: the request may be sent at `at` (epoch ms, `>=` the request's `now`). Until it is sent, the turn holds
 * its slot and its points; a caller that gives up before `at` hands them back with `release`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Reservation {
  readonly id: string
  readonly at: number
  /** What the wait is for, when there is one (for logs and spans). */
  readonly waitingFor?: "spacing" | "points" | "content" | "paused" | "primary" | undefined
}

/**
 * The store could not be reached or answered nonsense. What a requester does then is the store's policy (the
 * Redis store either fails with this or falls back to memory).
 *
 * @since 0.2.0
 * @category errors
 */
export class IdentityStoreError extends Schema.TaggedError<IdentityStoreError>(
  "@effect-github/app/IdentityStoreError"
)("IdentityStoreError", {
  operation: Schema.String,
  description: Schema.String
}) {
  /** @since 0.2.0 */
  override get message(): string {
    return `The identity store failed (${this.operation}): ${this.description}`
  }
}

/**
 * The seam. Every operation is atomic per identity (one round trip for a shared store).
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Takes the earliest turn that keeps every limit, the pause and the primary reading of the identity. */
  readonly reserve: (identity: Identity, request: ReserveRequest) => Effect.Effect<Reservation, IdentityStoreError>
  /** Gives back a turn that was not used (its caller was interrupted before sending): later turns may move up. */
  readonly release: (identity: Identity, reservationId: string) => Effect.Effect<void, IdentityStoreError>
  /** Holds back every request of the identity until `until` (epoch ms); never shortens a longer pause. */
  readonly pause: (identity: Identity, until: number) => Effect.Effect<void, IdentityStoreError>
  /** When the identity's pause ends (epoch ms; 0 when it is not paused). */
  readonly pausedUntil: (identity: Identity) => Effect.Effect<number, IdentityStoreError>
  /**
   * Records GitHub's primary reading for one resource of the identity. `blockedUntil` (epoch ms, local clock) is
   * when an exhausted bucket is known to have reset; 0 when it is not exhausted.
   */
  readonly record: (
    identity: Identity,
    reading: RateLimit,
    blockedUntil: number
  ) => Effect.Effect<void, IdentityStoreError>
  /** The last primary reading of a resource of the identity. */
  readonly reading: (
    identity: Identity,
    resource: string
  ) => Effect.Effect<Option.Option<RateLimit>, IdentityStoreError>
}

/**
 * The store in context. Without one, each `HttpRequester` layer keeps its own in memory.
 *
 * @since 0.2.0
 * @category tags
 */
export class IdentityStore extends Context.Tag("@effect-github/app/IdentityStore")<IdentityStore, Service>() {}

/**
 * A store in this process's memory: what every `HttpRequester` layer builds for itself when none is in context.
 * Provide one (`layerMemory`) to share it between several layers of one process.
 *
 * @since 0.2.0
 * @category constructors
 */
export const memory: Effect.Effect<Service> = Effect.sync(() => internal.serviceOf(new internal.MemoryIdentities()))

/**
 * @since 0.2.0
 * @category layers
 */
export const layerMemory: Layer.Layer<IdentityStore> = Layer.effect(IdentityStore, memory)
