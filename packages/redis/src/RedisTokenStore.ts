/**
 * Installation tokens shared by a fleet through Redis: stored encrypted (AES-256-GCM, rotating keys) until
 * `expires_at`, and minted once for everyone: a lock per key (`SET NX PX`, fenced, released by compare-and-delete),
 * waiters woken by pub/sub when the token lands (with a bounded poll), and a dead holder's lock freed by expiry.
 *
 * @since 0.1.0
 */
import { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as TokenStore from "@effect-github/app/TokenStore"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import * as crypto from "./internal/crypto.js"
import * as scripts from "./internal/scripts.js"
import * as RedisClient from "./RedisClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * AES-256 keys (32 bytes as 64 hex digits or base64), newest first: tokens are sealed with the first; every key
   * opens what it sealed, so rotation is "prepend the new key, drop the old one an hour later".
   */
  readonly keys: Redacted.Redacted<string> | ReadonlyArray<Redacted.Redacted<string>>
  /** How often a waiter looks again when no wake-up arrives (default 250 ms). */
  readonly pollInterval?: Duration.DurationInput | undefined
}

interface Commands {
  egAcquire(...args: Array<string | number>): Promise<[number, string]>
  egStore(...args: Array<string | number>): Promise<number>
  egUnlock(...args: Array<string | number>): Promise<number>
  egExtend(...args: Array<string | number>): Promise<number>
}

/**
 * @since 0.1.0
 * @category metrics
 */
export const hits = Metric.counter("effect_github_redis_token_hits", {
  description: "Tokens found in Redis",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const mints = Metric.counter("effect_github_redis_token_mints", {
  description: "Tokens minted by this process while holding the fleet's lock (or in memory, after a fallback)",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const lockWaits = Metric.counter("effect_github_redis_lock_waits", {
  description: "Times a get waited for another process's mint",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const unreadable = Metric.counter("effect_github_redis_token_unreadable", {
  description: "Stored tokens that did not decrypt or decode (read as a miss)",
  incremental: true
})

const encodeJson = Schema.encode(Schema.parseJson(InstallationAuthorization))
const decodeJson = Schema.decodeUnknownOption(Schema.parseJson(InstallationAuthorization))

/** A per-key mutex for this process: one Redis lock attempt, and (in memory) one mint, per key at a time. */
const keyedLock = () => {
  const locks = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
  return <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let entry = locks.get(key)
      if (entry === undefined) {
        entry = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
        locks.set(key, entry)
      }
      const held = entry
      held.users++
      return held.semaphore.withPermits(1)(effect).pipe(
        Effect.ensuring(Effect.sync(() => {
          if (--held.users === 0) locks.delete(key)
        }))
      )
    })
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<TokenStore.Service, TokenStore.TokenStoreError, RedisClient.RedisClient | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* RedisClient.RedisClient
    const given = Arr.isArray(options?.keys) ? options.keys : [options?.keys as Redacted.Redacted<string>]
    const keys: Array<crypto.Key> = []
    for (const [i, k] of given.entries()) {
      const parsed = Redacted.isRedacted(k) ? crypto.parseKey(k as Redacted.Redacted<string>, i) : undefined
      if (parsed === undefined || "_tag" in parsed) {
        return yield* new TokenStore.TokenStoreError({
          operation: "configure",
          description: parsed?.description ?? `encryption key ${i + 1} must be a Redacted string`
        })
      }
      keys.push(parsed)
    }
    if (keys.length === 0) {
      return yield* new TokenStore.TokenStoreError({ operation: "configure", description: "no encryption key given" })
    }
    const pollMs = Duration.toMillis(Duration.decode(options.pollInterval ?? "250 millis"))
    const redis = client.redis as Redis & Commands
    redis.defineCommand("egAcquire", { numberOfKeys: 3, lua: scripts.acquire })
    redis.defineCommand("egStore", { numberOfKeys: 2, lua: scripts.store })
    redis.defineCommand("egUnlock", { numberOfKeys: 1, lua: scripts.unlock })
    redis.defineCommand("egExtend", { numberOfKeys: 1, lua: scripts.extend })
    const channel = `${client.prefix}tokens:landed`
    const tokenKey = (key: string) => `${client.prefix}tok:{${key}}`
    const lockKey = (key: string) => `${client.prefix}tok:{${key}}:lock`
    const fenceKey = (key: string) => `${client.prefix}tok:{${key}}:fence`

    // waiters in this process, woken when any process publishes that the key's token landed (or its lock freed)
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
    const wake = (key: string) => {
      const set = waiters.get(key)
      if (set === undefined) return
      waiters.delete(key)
      for (const d of set) Deferred.unsafeDone(d, Exit.void)
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const subscriber = client.redis.duplicate({ lazyConnect: false, maxRetriesPerRequest: null })
        subscriber.on("error", () => {})
        subscriber.on("message", (_channel: string, key: string) => wake(key))
        // (re)subscribe on every ready: a subscription that failed while Redis was down is not resumed by ioredis
        subscriber.on("ready", () => {
          subscriber.subscribe(channel).catch(() => {})
        })
        return subscriber
      }),
      (subscriber) => Effect.sync(() => subscriber.disconnect())
    )

    // every token this process saw, for the fallback (never a lost token) and as the answer when a store fails
    const memory = new Map<string, InstallationAuthorization>()
    const remember = (key: string, auth: InstallationAuthorization, now: number) => {
      if (memory.size > 10_000) {
        for (const [k, v] of memory) if (v.expires_at.getTime() <= now) memory.delete(k)
      }
      memory.set(key, auth)
    }
    const withKeyLock = keyedLock()

    const open = (key: string, entry: string): Option.Option<InstallationAuthorization> => {
      const match = /^(\d+)\.(\d+)\.(.*)$/s.exec(entry)
      if (match === null) return Option.none()
      const plaintext = crypto.decrypt(keys, match[3], tokenKey(key))
      return plaintext === undefined ? Option.none() : decodeJson(plaintext)
    }

    const seal = (key: string, fence: string, auth: InstallationAuthorization) =>
      Effect.map(
        Effect.orDie(encodeJson(auth)),
        (json) => `${fence}.${auth.expires_at.getTime()}.${crypto.encrypt(keys[0], json, tokenKey(key))}`
      )

    // while the holder lives its lock is extended (every third of mintTimeout), so a slow mint is not taken over;
    // a holder that dies stops extending and its lock expires within mintTimeout
    const heartbeat = (key: string, owner: string, ttl: number) =>
      client.run("extend", (r) => (r as Redis & Commands).egExtend(lockKey(key), owner, ttl)).pipe(
        Effect.ignore,
        Effect.delay(Duration.millis(Math.max(1, Math.floor(ttl / 3)))),
        Effect.forever
      )

    const mintAsHolder = <E>(
      key: string,
      owner: string,
      ttl: number,
      mint: Effect.Effect<InstallationAuthorization, E>
    ): Effect.Effect<InstallationAuthorization, E> =>
      Effect.raceFirst(mint, heartbeat(key, owner, ttl)).pipe(
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.ignore(
              client.run("unlock", (r) => (r as Redis & Commands).egUnlock(lockKey(key), owner, channel, key))
            )
        ),
        Effect.tap(() => Metric.increment(mints)),
        Effect.tap((auth) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            remember(key, auth, now)
            const fence = owner.slice(owner.lastIndexOf(":") + 1)
            const entry = yield* seal(key, fence, auth)
            const ttl = Math.floor(auth.expires_at.getTime() - now)
            yield* client.run(
              "store",
              (r) =>
                (r as Redis & Commands).egStore(tokenKey(key), lockKey(key), owner, fence, entry, ttl, channel, key)
            ).pipe(
              // the minted token is good and goes to its caller whatever Redis does; the others mint after expiry
              Effect.catchAll((error) =>
                Effect.logWarning(`a minted token could not be stored in Redis: ${error.description}`)
              )
            )
          })
        ),
        Effect.withSpan("RedisTokenStore.mint", { attributes: { key } })
      )

    const viaRedis = <E>(
      key: string,
      options: TokenStore.GetOrMintOptions,
      mint: Effect.Effect<InstallationAuthorization, E>
    ): Effect.Effect<InstallationAuthorization, E | RedisClient.RedisError> =>
      Effect.gen(function*() {
        const nonce = Crypto.randomBytes(12).toString("base64url")
        const lockTtl = Math.max(1, Math.ceil(options.mintTimeout))
        let goodAfter = options.goodAfter
        let waited = false
        while (true) {
          const woken = yield* Deferred.make<void>()
          let set = waiters.get(key)
          if (set === undefined) {
            set = new Set()
            waiters.set(key, set)
          }
          set.add(woken)
          const step = Effect.gen(function*() {
            const [code, value] = yield* client.run("acquire", (r) =>
              (r as Redis & Commands).egAcquire(
                tokenKey(key),
                lockKey(key),
                fenceKey(key),
                Math.floor(goodAfter),
                nonce,
                lockTtl
              ))
            if (code === 0) {
              const auth = open(key, value)
              if (Option.isSome(auth) && auth.value.expires_at.getTime() > options.goodAfter) {
                yield* Metric.increment(hits)
                remember(key, auth.value, yield* Clock.currentTimeMillis)
                return Option.some(auth.value)
              }
              // undecryptable or undecodable: a miss, and the lock is taken over it on the next attempt
              yield* Metric.increment(unreadable)
              goodAfter = Number.MAX_SAFE_INTEGER
              return Option.none()
            }
            if (code === 1) return Option.some(yield* mintAsHolder(key, value, lockTtl, mint))
            if (!waited) {
              waited = true
              yield* Metric.increment(lockWaits)
            }
            const pttl = Number(value)
            const wait = Math.max(1, Math.min(pollMs, pttl > 0 ? pttl + 1 : pollMs))
            yield* Effect.raceFirst(Deferred.await(woken), Effect.sleep(Duration.millis(wait)))
            return Option.none()
          }).pipe(Effect.ensuring(Effect.sync(() => waiters.get(key)?.delete(woken))))
          const result = yield* step
          if (Option.isSome(result)) return result.value
        }
      }).pipe(Effect.withSpan("RedisTokenStore.getOrMint", { attributes: { key } }))

    const inMemory = <E>(
      key: string,
      options: TokenStore.GetOrMintOptions,
      mint: Effect.Effect<InstallationAuthorization, E>
    ): Effect.Effect<InstallationAuthorization, E> =>
      Effect.suspend(() => {
        const known = memory.get(key)
        if (known !== undefined && known.expires_at.getTime() > options.goodAfter) return Effect.succeed(known)
        return mint.pipe(
          Effect.tap((auth) =>
            Effect.zipRight(
              Metric.increment(mints),
              Effect.map(Clock.currentTimeMillis, (now) => remember(key, auth, now))
            )
          )
        )
      })

    const getOrMint = <E>(
      key: string,
      options: TokenStore.GetOrMintOptions,
      mint: Effect.Effect<InstallationAuthorization, E>
    ): Effect.Effect<InstallationAuthorization, E | TokenStore.TokenStoreError> => {
      if (typeof key !== "string" || key.length === 0) {
        return Effect.fail(
          new TokenStore.TokenStoreError({ operation: "getOrMint", description: "key must be a string" })
        )
      }
      if (
        typeof options !== "object" || options === null || !Number.isFinite(options.goodAfter) ||
        !Number.isFinite(options.mintTimeout) || options.mintTimeout <= 0
      ) {
        return Effect.fail(
          new TokenStore.TokenStoreError({
            operation: "getOrMint",
            description: "goodAfter must be a finite number and mintTimeout a positive one (milliseconds)"
          })
        )
      }
      return withKeyLock(
        key,
        viaRedis(key, options, mint).pipe(
          Effect.catchIf(
            (e): e is RedisClient.RedisError => e instanceof RedisClient.RedisError,
            (error): Effect.Effect<InstallationAuthorization, E | TokenStore.TokenStoreError> =>
              client.onFailure === "memory"
                ? Effect.zipRight(client.fellBack("the token store", error), inMemory(key, options, mint))
                : Effect.fail(new TokenStore.TokenStoreError({ operation: "getOrMint", description: error.message }))
          )
        )
      )
    }

    const remove = (key: string): Effect.Effect<void, TokenStore.TokenStoreError> => {
      if (typeof key !== "string" || key.length === 0) {
        return Effect.fail(new TokenStore.TokenStoreError({ operation: "remove", description: "key must be a string" }))
      }
      return Effect.sync(() => memory.delete(key)).pipe(
        Effect.zipRight(client.run("remove", (r) => r.del(tokenKey(key)))),
        Effect.asVoid,
        Effect.catchAll((error) =>
          client.onFailure === "memory"
            ? client.fellBack("the token store", error)
            : Effect.fail(new TokenStore.TokenStoreError({ operation: "remove", description: error.message }))
        ),
        Effect.withSpan("RedisTokenStore.remove", { attributes: { key } })
      )
    }

    return TokenStore.TokenStore.of({ getOrMint, remove })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenStore.TokenStore, TokenStore.TokenStoreError, RedisClient.RedisClient> =>
  Layer.scoped(TokenStore.TokenStore, make(options))
