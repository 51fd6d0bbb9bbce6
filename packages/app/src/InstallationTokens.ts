/**
 * Installation access tokens: minted once per scope, shared by concurrent callers, reused until shortly before
 * they expire on GitHub's clock, refreshed in the background on request, and revocable. With a
 * `TokenStore.TokenStore` in context, a miss asks that shared store before minting.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as AppAuth from "./AppAuth.js"
import { InvalidArgument } from "./GithubError.js"
import * as HttpRequester from "./HttpRequester.js"
import { InstallationAuthorization } from "./InstallationAuthorization.js"
import * as Credentials from "./internal/credentials.js"
import { nativeTracer } from "./internal/httpRequester.js"
import * as Sync from "./internal/tokensSync.js"
import * as Validate from "./internal/validate.js"
import * as TokenStore from "./TokenStore.js"

/**
 * What a token may do: fewer permissions and fewer repositories than the installation has. Empty means all of
 * the installation's.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenScope {
  readonly permissions?: Readonly<Record<string, "read" | "write" | "admin">> | undefined
  /** Repository names, without the owner. */
  readonly repositories?: ReadonlyArray<string> | undefined
  readonly repositoryIds?: ReadonlyArray<number> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A cached token is used until `expires_at` minus this margin; default 5 minutes. */
  readonly refreshMargin?: Duration.DurationInput | undefined
  /** The most tokens kept (least recently used go first); default 15,000. */
  readonly capacity?: number | undefined
  /**
   * Renew cached tokens in a background fiber before they reach the margin, so readers never wait on a mint.
   * `true` checks every 30 s; or give the interval. Default off.
   */
  readonly proactiveRefresh?: boolean | Duration.DurationInput | undefined
  /**
   * How long after minting a token GitHub may still refuse it while it replicates (401, or 403 on a narrowed
   * token); requests are retried with backoff within this window. Default 5 s.
   */
  readonly replicationLagWindow?: Duration.DurationInput | undefined
  /**
   * How long a mint GitHub refused for a lasting reason (403: suspended; 404: uninstalled) is remembered: within
   * it, a `get` for the same installation and scope fails with the same error without a request. Default 30 s;
   * 0 remembers nothing. Timeouts, 5xx and rate limits are never remembered.
   */
  readonly failedMintWindow?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A token for the installation and scope: from the cache, or minted once for all concurrent callers. */
  readonly get: (
    installationId: number,
    scope?: TokenScope
  ) => Effect.Effect<InstallationAuthorization, HttpRequester.RequestError>
  /** A new token, bypassing the cache. */
  readonly mint: (
    installationId: number,
    scope?: TokenScope
  ) => Effect.Effect<InstallationAuthorization, HttpRequester.RequestError>
  /** Drops the cached token of this installation and scope. */
  readonly invalidate: (installationId: number, scope?: TokenScope) => Effect.Effect<void, InvalidArgument>
  /** Revokes a token at GitHub (`DELETE /installation/token`) and drops it from the cache. */
  readonly revoke: (token: Redacted.Redacted<string>) => Effect.Effect<void, HttpRequester.RequestError>
  /** A new token that is revoked when the scope closes. */
  readonly scoped: (
    installationId: number,
    scope?: TokenScope
  ) => Effect.Effect<InstallationAuthorization, HttpRequester.RequestError, Scope.Scope>
  /**
   * A requester acting as the installation (PyGithub's `get_github_for_installation`): token auth from this
   * cache, refreshed on its own, sharing spacing and rate-limit pauses with the app's requester.
   */
  readonly requester: (installationId: number, scope?: TokenScope) => HttpRequester.Service
}

/**
 * @since 0.1.0
 * @category tags
 */
export class InstallationTokens extends Context.Tag("@effect-github/app/InstallationTokens")<
  InstallationTokens,
  Service
>() {}

/**
 * Effect metrics of the token cache.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  hits: Metric.counter("github_app_token_cache_hits", { description: "Tokens served from the cache" }),
  misses: Metric.counter("github_app_token_cache_misses", { description: "Token lookups that had to mint" }),
  mints: Metric.counter("github_app_token_mints", { description: "Installation tokens minted" }),
  refreshes: Metric.counter("github_app_token_refreshes", { description: "Tokens renewed in the background" }),
  inFlight: Metric.gauge("github_app_token_mints_in_flight", { description: "Mints waiting for GitHub" })
} as const

interface Key {
  readonly installationId: number
  readonly permissions: ReadonlyArray<readonly [string, string]>
  readonly repositories: ReadonlyArray<string>
  readonly repositoryIds: ReadonlyArray<number>
}

interface Flight {
  readonly fiber: Fiber.RuntimeFiber<Entry, HttpRequester.RequestError>
  waiters: number
}

interface Entry {
  readonly authorization: InstallationAuthorization
  /** When the entry stops being served (epoch ms, local clock): `expires_at` on GitHub's clock minus the margin. */
  readonly goodUntil: number
  readonly mintedAt: number
  /** Read since it was minted: only such entries are renewed in the background. */
  used: boolean
}

interface Failure {
  readonly error: HttpRequester.RequestError
  /** Until when (epoch ms, local clock) a miss answers with this error instead of a POST. */
  readonly until: number
}

const defaults = {
  refreshMargin: Duration.minutes(5),
  capacity: 15_000,
  refreshInterval: Duration.seconds(30),
  replicationLagWindow: Duration.seconds(5),
  failedMintWindow: Duration.seconds(30),
  // how long a TokenStore lock for one mint lives, should its holder die: the requester's timeouts and retries
  // for one POST stay well inside it
  storeMintTimeout: 60_000
} as const

/** A refusal that names the installation (suspended, gone): the same answer comes back for a while. */
const isLasting = (error: HttpRequester.RequestError): boolean =>
  error._tag === "GithubForbidden" || error._tag === "GithubNotFound"

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, InvalidArgument, AppAuth.AppAuth | HttpRequester.HttpRequester | Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* AppAuth.AppAuth
    const base = yield* HttpRequester.HttpRequester
    const store = yield* Effect.serviceOption(TokenStore.TokenStore)
    const margin = Duration.toMillis(yield* duration("refreshMargin", options.refreshMargin, defaults.refreshMargin))
    const lagWindow = yield* duration(
      "replicationLagWindow",
      options.replicationLagWindow,
      defaults.replicationLagWindow
    )
    const failedMintWindow = Duration.toMillis(
      yield* duration("failedMintWindow", options.failedMintWindow, defaults.failedMintWindow)
    )
    const capacity = options.capacity ?? defaults.capacity
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      return yield* new InvalidArgument({ argument: "capacity", description: "expected a positive integer" })
    }
    const appRequester = base.withCredentials(Credentials.app(auth))
    // The cache belongs to this one requester (GitHub host) and app, so its keys need only name the installation
    // and scope: a whole-installation key is the id alone, cheap to build and to hash on every hit.

    // When each token was minted, keyed by its Redacted (no token text kept; entries go with the tokens): GitHub
    // may refuse any use of a fresh token while it replicates, its revocation included.
    const mintedAt = new WeakMap<Redacted.Redacted<string>, number>()
    const lagLeft = (minted: number | undefined): Effect.Effect<Duration.Duration> =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        minted !== undefined && now - minted < Duration.toMillis(lagWindow)
          ? Duration.millis(Duration.toMillis(lagWindow) - (now - minted))
          : Duration.zero)

    const countMint = Metric.increment(metrics.mints)

    const post = (key: Key): Effect.Effect<InstallationAuthorization, HttpRequester.RequestError> =>
      appRequester.request(
        {
          method: "POST",
          path: "/app/installations/{installation_id}/access_tokens",
          params: { installation_id: key.installationId },
          body: requestBody(key),
          // Minting twice is harmless (GitHub hands out another token), so a lost response may be retried.
          idempotent: true
        },
        InstallationAuthorization
      ).pipe(
        Effect.tap((authorization) =>
          Effect.clockWith((clock) => {
            mintedAt.set(authorization.token, clock.unsafeCurrentTimeMillis())
            return countMint
          })
        ),
        (mint) =>
          Effect.acquireUseRelease(
            Metric.incrementBy(metrics.inFlight, 1),
            () => mint,
            () => Metric.incrementBy(metrics.inFlight, -1)
          ),
        (mint) =>
          Effect.tracerWith((tracer) =>
            // Effect's built-in tracer exports nothing: skip the span's cost (a stack trace per mint) unless a real
            // tracer is installed
            tracer === nativeTracer() ? mint : Effect.withSpan(mint, "InstallationTokens.mint", {
              // shared by its callers, it is no caller's child
              root: true,
              attributes: { "github.installation_id": key.installationId }
            })
          )
      )

    // With a shared store, a miss asks it first: one mint per key for every process sharing it. The store is a
    // cache: when it cannot be reached, the token is minted here (or the one it minted is kept) and a warning
    // logged, so a store outage never fails a caller that GitHub would have served.
    const mintKey = (encoded: string, key: Key): Effect.Effect<InstallationAuthorization, HttpRequester.RequestError> =>
      Option.isNone(store) ? post(key) : Effect.suspend(() => {
        let minted: InstallationAuthorization | undefined
        return Effect.flatMap(
          Effect.zipWith(Clock.currentTimeMillis, auth.clockOffset, (now, offset) => now + offset + margin),
          (goodAfter) =>
            store.value.getOrMint(
              encoded,
              { goodAfter, mintTimeout: defaults.storeMintTimeout },
              Effect.tap(post(key), (authorization) => {
                minted = authorization
              })
            )
        ).pipe(
          Effect.catchTag("TokenStoreError", (error) =>
            Effect.zipRight(
              Effect.logWarning("The token store failed; minting in this process", error.message),
              minted !== undefined ? Effect.succeed(minted) : post(key)
            ))
        )
      })

    const forget = (key: string): Effect.Effect<void> =>
      Option.isNone(store) ? Effect.void : store.value.remove(key).pipe(
        Effect.catchAll((error) => Effect.logWarning("The token store could not forget a token", error.message))
      )

    // The cache: a Map in least-recently-used order (a hit moves its key to the end), read synchronously.
    const entries = new Map<string, Entry>()
    const failures = new Map<string, Failure>()

    const store_ = (key: string, entry: Entry) => {
      entries.delete(key)
      entries.set(key, entry)
      failures.delete(key)
      if (entries.size > capacity) entries.delete(entries.keys().next().value!)
    }

    /** The fresh entry of a key at `now` (marking it used), or undefined. */
    const fresh = (key: string, now: number): Entry | undefined => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (now >= entry.goodUntil) {
        entries.delete(key)
        return undefined
      }
      entry.used = true
      if (entries.size > 1) {
        entries.delete(key)
        entries.set(key, entry)
      }
      return entry
    }

    // Mints and stores: the token is good until `expires_at`, read on GitHub's clock (the offset AppAuth learned
    // from `date`, the mint's own response included), minus the margin. A refusal that will be repeated is
    // remembered for a while; anything else (a timeout, a 5xx) is not.
    const mintEntry = (encoded: string): Effect.Effect<Entry, HttpRequester.RequestError> =>
      Effect.flatMap(
        Effect.exit(mintKey(encoded, decodeKey(encoded))),
        (exit) =>
          Effect.clockWith((clock): Effect.Effect<Entry, HttpRequester.RequestError> => {
            const now = clock.unsafeCurrentTimeMillis()
            if (exit._tag === "Failure") {
              const error = Cause.failureOption(exit.cause)
              if (failedMintWindow > 0 && Option.isSome(error) && isLasting(error.value)) {
                failures.set(encoded, { error: error.value, until: now + failedMintWindow })
              }
              return Effect.failCause(exit.cause)
            }
            return Effect.map(auth.clockOffset, (offset) => {
              const authorization = exit.value
              const entry: Entry = {
                authorization,
                goodUntil: authorization.expires_at.getTime() - offset - margin,
                mintedAt: now,
                used: false
              }
              // a token already inside the margin (a tiny lifetime) is handed to its callers but not kept
              if (entry.goodUntil > now) store_(encoded, entry)
              return entry
            })
          })
      )

    const keyOf = (installationId: number, scope: TokenScope | undefined): Effect.Effect<string, InvalidArgument> => {
      const whole = wholeInstallationKey(installationId, scope)
      return whole !== undefined ? Effect.succeed(whole) : Effect.map(normalize(installationId, scope), encodeKey)
    }

    // A miss is minted in a fiber of the layer's scope that callers only await, so interrupting one caller does
    // not interrupt the mint under the others; the mint is aborted when its last caller goes away, so nothing
    // outlives the callers, and no entry is left.
    const mints = yield* FiberSet.make<Entry, HttpRequester.RequestError>()
    const flights = new Map<string, Flight>()

    // Finds the key's flight or starts one, in the same step (Effect.forkIn could yield before the flight is
    // registered, and a caller arriving then would start a second one). The mint fiber is run as a fork would be:
    // with the caller's context and fiber refs (tracer, log annotations); it is interrupted when the layer closes.
    const join = (key: string): Effect.Effect<Flight> =>
      Effect.flatMap(Effect.runtime<never>(), (runtime) =>
        Effect.sync(() => {
          const existing = flights.get(key)
          if (existing !== undefined) {
            existing.waiters++
            return existing
          }
          // started from the caller's uninterruptible region, it would inherit it
          const current: Flight = { fiber: Runtime.runFork(runtime)(Effect.interruptible(mintEntry(key))), waiters: 1 }
          flights.set(key, current)
          // the fiber may already be done (it runs at once, up to its first wait): then this drops it at once
          current.fiber.addObserver(() => flights.get(key) === current && flights.delete(key))
          FiberSet.unsafeAdd(mints, current.fiber)
          return current
        }))

    const flight = (key: string): Effect.Effect<Entry, HttpRequester.RequestError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(join(key), (current) =>
          restore(Effect.flatten(Fiber.await(current.fiber))).pipe(
            Effect.onExit(() => {
              if (--current.waiters > 0 || current.fiber.unsafePoll() !== null) return Effect.void
              // the last caller left an unfinished mint: gone before anyone else can join the flight being aborted
              if (flights.get(key) === current) flights.delete(key)
              return Fiber.interrupt(current.fiber)
            })
          ))
      )

    const countHit = Metric.increment(metrics.hits)
    const countMiss = Metric.increment(metrics.misses)
    const authorizationOf = (e: Entry) => e.authorization

    const miss = (key: string, now: number): Effect.Effect<Entry, HttpRequester.RequestError> => {
      const failure = failures.get(key)
      if (failure !== undefined) {
        if (now < failure.until) return Effect.zipRight(countHit, Effect.fail(failure.error))
        failures.delete(key)
      }
      return Effect.zipRight(countMiss, flight(key))
    }

    // the hot path: a fresh entry, read synchronously, with no fiber; anything else flies
    const entryOf = <A>(key: string, f: (e: Entry) => A): Effect.Effect<A, HttpRequester.RequestError> =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const hit = fresh(key, now)
        return hit !== undefined ? Effect.as(countHit, f(hit)) : Effect.map(miss(key, now), f)
      })

    const entryWith = <A>(
      installationId: number,
      scope: TokenScope | undefined,
      f: (e: Entry) => A
    ): Effect.Effect<A, HttpRequester.RequestError> => {
      // keyOf's fast path, without its Effect: a hit is a handful of steps
      const whole = wholeInstallationKey(installationId, scope)
      return whole !== undefined
        ? entryOf(whole, f)
        : Effect.flatMap(keyOf(installationId, scope), (key) => entryOf(key, f))
    }

    const entry = (installationId: number, scope?: TokenScope): Effect.Effect<Entry, HttpRequester.RequestError> =>
      entryWith(installationId, scope, identity)

    const get: Service["get"] = (installationId, scope) => entryWith(installationId, scope, authorizationOf)

    const mint: Service["mint"] = (installationId, scope) =>
      Effect.flatMap(normalize(installationId, scope), (key) => post(key))

    const drop = (key: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        entries.delete(key)
        failures.delete(key)
        return forget(key)
      })

    const invalidate: Service["invalidate"] = (installationId, scope) =>
      Effect.flatMap(keyOf(installationId, scope), drop)

    const invalidateToken = (token: Redacted.Redacted<string>) =>
      Effect.suspend(() => {
        const keys: Array<string> = []
        for (const [key, value] of entries) {
          if (Redacted.value(value.authorization.token) === Redacted.value(token)) keys.push(key)
        }
        return Effect.forEach(keys, drop, { discard: true })
      })

    // The token is dropped first, whatever GitHub answers: the caller meant to kill it, and a failed DELETE (its
    // error still returned) must not leave `get` serving it.
    const revoke: Service["revoke"] = (token) =>
      invalidateToken(token).pipe(
        Effect.zipRight(
          base.withCredentials({
            ...Credentials.token(token),
            // a 401 for a token minted a moment ago is replication lag: repeat the DELETE (GitHub refused it unseen)
            replicationLag: Effect.suspend(() => lagLeft(mintedAt.get(token)))
          }).requestJson({ method: "DELETE", path: "/installation/token" })
        ),
        Effect.asVoid,
        Effect.withSpan("InstallationTokens.revoke")
      )

    // Like acquireRelease, but the mint stays interruptible (acquireRelease would make a caller's interruption, or
    // its scope's closing, wait out the mint's timeouts and retries); a token received is revoked with the scope.
    const scoped: Service["scoped"] = (installationId, scope) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.tap(
          restore(mint(installationId, scope)),
          (authorization) =>
            Effect.addFinalizer(() =>
              revoke(authorization.token).pipe(
                Effect.catchAll((error) =>
                  Effect.logWarning("Could not revoke a scoped installation token", error.message)
                )
              )
            )
        )
      )

    const requester: Service["requester"] = (installationId, scope) => {
      // The token's age decides whether a refusal is replication lag (retry) or real (fail).
      let current: Entry | undefined
      const token = (fresh: boolean) =>
        Effect.gen(function*() {
          if (fresh) yield* invalidate(installationId, scope)
          current = yield* entry(installationId, scope)
          return current.authorization.token
        })
      return base.withCredentials({
        ...Credentials.installation({ installationId, token, observeServerTime: auth.observeServerTime }),
        replicationLag: Effect.suspend(() => lagLeft(current?.mintedAt))
      })
    }

    if (options.proactiveRefresh !== undefined && options.proactiveRefresh !== false) {
      const interval = Duration.toMillis(
        yield* duration(
          "proactiveRefresh",
          options.proactiveRefresh === true ? undefined : options.proactiveRefresh,
          defaults.refreshInterval
        )
      )
      // Renews the entries read since their mint that would fall inside the margin before the next pass, so their
      // readers never see a miss; an entry nobody read is left to expire (nothing is minted for keys nobody asks
      // for). A failed renewal leaves the entry as it was, still good, and the next pass tries again.
      const pass = Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const due: Array<string> = []
        for (const [key, value] of entries) {
          if (now >= value.goodUntil) entries.delete(key)
          else if (value.used && value.goodUntil - now <= 2 * interval) due.push(key)
        }
        return Effect.forEach(
          due,
          (key) =>
            flight(key).pipe(
              Effect.zipRight(Metric.increment(metrics.refreshes)),
              Effect.catchAll((error) => Effect.logWarning("Background token refresh failed", error.message))
            ),
          { concurrency: 8, discard: true }
        )
      })
      yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(interval)).pipe(Effect.delay(interval)))
    }

    const service = InstallationTokens.of({ get, mint, invalidate, revoke, scoped, requester })
    // the Promise facade's path to a hit without a fiber
    Sync.register(service, (installationId, scope, now) => {
      const key = wholeInstallationKey(installationId, scope)
      const hit = key === undefined ? undefined : fresh(key, now)
      if (hit === undefined) return undefined
      metrics.hits.unsafeUpdate(1, [])
      return hit.authorization
    })
    return service
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<InstallationTokens, InvalidArgument, AppAuth.AppAuth | HttpRequester.HttpRequester> =>
  Layer.scoped(InstallationTokens, make(options))

const duration = (argument: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
  Effect.suspend(() => {
    if (input === undefined) return Effect.succeed(fallback)
    const decoded = Duration.decodeUnknown(input)
    return decoded._tag === "Some" && Duration.isFinite(decoded.value) && Duration.toMillis(decoded.value) >= 0
      ? Effect.succeed(decoded.value)
      : Effect.fail(new InvalidArgument({ argument, description: "expected a finite, non-negative duration" }))
  })

/** Checks a scope and puts it in canonical order: equal scopes give equal keys. */
export const normalize = (installationId: number, scope: TokenScope = {}): Effect.Effect<Key, InvalidArgument> =>
  Effect.gen(function*() {
    const id = yield* Validate.id("installationId", installationId)
    if (typeof scope !== "object" || scope === null) {
      return yield* new InvalidArgument({ argument: "scope", description: "expected an object, or undefined" })
    }
    const permissions = scope.permissions === undefined
      ? {}
      : yield* Validate.permissions("permissions", scope.permissions)
    const selection = yield* Validate.repositorySelection(scope.repositories, scope.repositoryIds)
    return {
      installationId: id,
      permissions: Object.entries(permissions).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
      repositories: [...new Set(selection.names.map((name) => name.toLowerCase()))].sort(),
      repositoryIds: [...new Set(selection.ids)].sort((a, b) => a - b)
    }
  })

/** The id alone for a whole installation (as `keyOf`'s fast path builds it), else the canonical JSON. */
const encodeKey = (key: Key): string =>
  key.permissions.length === 0 && key.repositories.length === 0 && key.repositoryIds.length === 0
    ? String(key.installationId)
    : JSON.stringify(key)

// Only well-typed empty values: anything else (null, a string, `{ length: 0 }`) is for `normalize` to refuse.
const isEmptyList = (value: unknown): boolean => value === undefined || (Array.isArray(value) && value.length === 0)
const isWholeInstallation = (scope: TokenScope | undefined): boolean =>
  scope === undefined ||
  (typeof scope === "object" && scope !== null &&
    (scope.permissions === undefined ||
      (typeof scope.permissions === "object" && scope.permissions !== null && !Array.isArray(scope.permissions) &&
        Object.keys(scope.permissions).length === 0)) &&
    isEmptyList(scope.repositories) && isEmptyList(scope.repositoryIds))

/**
 * The key of a token for the whole installation (the common case: no scope to validate or sort), or undefined
 * when the scope or id needs `normalize`.
 */
const wholeInstallationKey = (installationId: number, scope: TokenScope | undefined): string | undefined =>
  isWholeInstallation(scope) && Number.isSafeInteger(installationId) && installationId > 0
    ? String(installationId)
    : undefined

const decodeKey = (encoded: string): Key =>
  encoded.startsWith("{")
    ? JSON.parse(encoded) as Key
    : { installationId: Number(encoded), permissions: [], repositories: [], repositoryIds: [] }

const requestBody = (key: Key): Record<string, unknown> | undefined => {
  const body: Record<string, unknown> = {}
  if (key.permissions.length > 0) body.permissions = Object.fromEntries(key.permissions)
  if (key.repositories.length > 0) body.repositories = key.repositories
  if (key.repositoryIds.length > 0) body.repository_ids = key.repositoryIds
  return Object.keys(body).length > 0 ? body : undefined
}
