/**
 * Taking a request's turn as its identity: at most `concurrency` in flight per identity in this process, one
 * waiter at a time per identity holding a future turn, and a turn given back when its waiter is interrupted.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { GithubRateLimited, GithubTransportError } from "../GithubError.js"
import type * as IdentityStore from "../IdentityStore.js"
import { seconds } from "./rateLimit.js"

/**
 * What every requester of one layer shares: the store and this process's per-identity semaphores.
 *
 * @internal
 */
export interface Accounting {
  readonly store: IdentityStore.Service
  readonly limits: IdentityStore.Limits
  readonly concurrency: number
  readonly maxRateLimitWait: number
  readonly lanes: Map<IdentityStore.Identity, Lane>
}

/**
 * One identity's in-process state.
 *
 * @internal
 */
export interface Lane {
  /** Held while waiting for a turn: a process holds at most one future turn per identity. */
  readonly turn: Effect.Semaphore
  readonly inFlight: Effect.Semaphore
  /** Secondary limits in a row without a wait from GitHub: the next pause doubles. */
  secondaryStreak: number
}

/** @internal */
export const laneOf = (accounting: Accounting, identity: IdentityStore.Identity): Lane => {
  let lane = accounting.lanes.get(identity)
  if (lane === undefined) {
    lane = {
      turn: Effect.unsafeMakeSemaphore(1),
      inFlight: Effect.unsafeMakeSemaphore(accounting.concurrency),
      secondaryStreak: 0
    }
    accounting.lanes.set(identity, lane)
  }
  return lane
}

/**
 * What a turn is asked for.
 *
 * @internal
 */
export interface TurnRequest {
  readonly identity: IdentityStore.Identity
  readonly method: string
  readonly route: string
  readonly points: number
  readonly contentCreating: boolean
  readonly resource: string
}

/** @internal */
export const storeFailure = (t: { readonly method: string; readonly route: string }) =>
(
  error: IdentityStore.IdentityStoreError
): GithubTransportError =>
  new GithubTransportError({
    method: t.method,
    route: t.route,
    reason: "Other",
    notProcessed: true,
    description: error.message
  })

const refused = (
  accounting: Accounting,
  t: TurnRequest,
  kind: "paused" | "primary",
  wait: number
): Effect.Effect<never, GithubRateLimited | IdentityStore.IdentityStoreError> =>
  Effect.flatMap(
    kind === "primary" ? accounting.store.reading(t.identity, t.resource) : Effect.succeed(Option.none()),
    (reading) => {
      const resetAt = Option.isSome(reading) ? reading.value.resetAt : undefined
      return Effect.fail(
        new GithubRateLimited({
          method: t.method,
          route: t.route,
          kind: kind === "primary" ? "primary" : "secondary",
          retryAfter: Duration.millis(wait),
          ...(kind === "primary" ? { resource: t.resource } : {}),
          ...(resetAt === undefined ? {} : { resetAt })
        })
      )
    }
  )

// Reserves and waits for the turn; the reservation is given back if the wait is interrupted or refused.
const waitTurn = (
  accounting: Accounting,
  t: TurnRequest
): Effect.Effect<void, GithubRateLimited | IdentityStore.IdentityStoreError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      const { store } = accounting
      return Effect.flatMap(
        store.reserve(t.identity, {
          now,
          points: t.points,
          contentCreating: t.contentCreating,
          resource: t.resource,
          limits: accounting.limits
        }),
        (reservation): Effect.Effect<void, GithubRateLimited | IdentityStore.IdentityStoreError> => {
          const wait = reservation.at - now
          if (wait <= 0) return Effect.void
          const release = store.release(t.identity, reservation.id)
          const why = reservation.waitingFor
          if ((why === "paused" || why === "primary") && wait > accounting.maxRateLimitWait) {
            return Effect.zipRight(release, refused(accounting, t, why, wait))
          }
          const log = why === "paused" || why === "primary"
            ? Effect.logDebug(`GitHub ${t.method} ${t.route}: waiting ${seconds(wait)} for a rate limit`)
            : Effect.void
          return restore(Effect.zipRight(log, Effect.sleep(Duration.millis(wait)))).pipe(
            Effect.onInterrupt(() => Effect.ignore(release)),
            // a rate-limit answer may have paused the identity while this turn was waited for
            Effect.zipRight(store.pausedUntil(t.identity)),
            Effect.flatMap((until) =>
              until > reservation.at
                ? Effect.zipRight(release, restore(waitTurn(accounting, t)))
                : Effect.void
            )
          )
        }
      )
    })
  )

/**
 * Runs `self` in its identity's turn.
 *
 * @internal
 */
export const withTurn = <A, E, R>(
  accounting: Accounting,
  t: TurnRequest,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | GithubRateLimited | GithubTransportError, R> => {
  const lane = laneOf(accounting, t.identity)
  return lane.inFlight.withPermits(1)(
    Effect.zipRight(
      lane.turn.withPermits(1)(
        Effect.mapError(
          waitTurn(accounting, t),
          (error) => error._tag === "IdentityStoreError" ? storeFailure(t)(error) : error
        )
      ),
      self
    )
  )
}
